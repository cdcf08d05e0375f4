"""Gather ``metrics/*.json`` into ``REPORT.md``, F1 charts, an error page and the
README results table.

Every number in the tables is read from the metrics files written by ``evaluate``;
published numbers only ever appear in their own section (``published.py``).
"""

import json
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from ..labels import VIEWS, labels_for
from .displacy_html import read_error_docs, write_errors_page
from .errors import CLASSES
from .published import load_published, published_markdown
from .timings import TIMINGS_FILE

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"


def pct(x: Optional[float]) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def num(x: Optional[float], digits: int = 1) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def rate(x: Optional[float]) -> str:
    """Words or docs per second: no decimals from 100 up."""
    return num(x, 0 if x is not None and x >= 100 else 1)


def corpus_name(path: Optional[str]) -> str:
    """The corpus as its last two path parts (``corpus/test.spacy``, ``docs/test.spacy``)."""
    return "/".join(Path(path).parts[-2:]) if path else "-"


def load_metrics(metrics_dir: Union[str, Path]) -> List[dict]:
    """Every metrics file of ``evaluate`` in the folder (others, e.g. timings, skipped),
    sorted by system name."""
    metrics_dir = Path(metrics_dir)
    if not metrics_dir.is_dir():
        raise FileNotFoundError(f"No metrics folder {metrics_dir}")
    out = []
    for path in sorted(metrics_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not JSON ({err})") from err
        if isinstance(data, dict) and "views" in data and "system" in data:
            data["_path"] = str(path)
            out.append(data)
    return sorted(out, key=lambda m: m["system"])


def load_timings(metrics_dir: Union[str, Path]) -> Optional[Dict[str, float]]:
    path = Path(metrics_dir) / TIMINGS_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected {{step: seconds}}")
    return {str(k): float(v) for k, v in data.items()}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def view_types(metrics: Sequence[dict], view: str) -> List[str]:
    """The view's target labels, then any other label a system was scored on."""
    types = list(labels_for(view))
    for m in metrics:
        for label in m["views"].get(view, {}).get("seqeval", {}).get("per_type", {}):
            if label not in types:
                types.append(label)
    return types


def _seq(m: dict, view: str) -> dict:
    return m["views"].get(view, {}).get("seqeval", {})


def overview_table(metrics: Sequence[dict]) -> str:
    header = ["system", "corpus", "docs", "micro F1 5type", "macro F1 5type", "micro F1 4type",
              "macro F1 4type", "spaCy ents_f 5type", "words/s", "wall s", "peak RSS MB"]
    rows = []
    for m in metrics:
        s5, s4 = _seq(m, "5type"), _seq(m, "4type")
        sp = m.get("speed", {})
        rows.append([
            m["system"], corpus_name(m.get("corpus")), m.get("n_docs", "-"),
            pct(s5.get("micro", {}).get("f")), pct(s5.get("macro", {}).get("f")),
            pct(s4.get("micro", {}).get("f")), pct(s4.get("macro", {}).get("f")),
            pct(m["views"].get("5type", {}).get("spacy", {}).get("ents_f")),
            rate(sp.get("words_per_s")), num(sp.get("wall_s"), 2), num(sp.get("peak_rss_mb"), 0),
        ])
    return _table(header, rows)


def per_type_table(metrics: Sequence[dict], view: str) -> str:
    """Systems x types: ``F1 (P/R)`` in %, seqeval strict, plus micro and macro."""
    types = view_types(metrics, view)
    header = ["system"] + types + ["micro", "macro", "words/s", "wall s"]
    rows = []
    for m in metrics:
        s = _seq(m, view)
        cells = []
        for key in types + ["micro", "macro"]:
            prf = s.get(key) if key in ("micro", "macro") else s.get("per_type", {}).get(key)
            cells.append("-" if not prf else f"{pct(prf['f'])} ({pct(prf['p'])}/{pct(prf['r'])})")
        sp = m.get("speed", {})
        rows.append([m["system"]] + cells + [rate(sp.get("words_per_s")), num(sp.get("wall_s"), 2)])
    return _table(header, rows)


def spacy_table(metrics: Sequence[dict], view: str) -> str:
    types = view_types(metrics, view)
    header = ["system"] + types + ["ents_p", "ents_r", "ents_f"]
    rows = []
    for m in metrics:
        sp = m["views"].get(view, {}).get("spacy", {})
        per = sp.get("ents_per_type") or {}
        rows.append([m["system"]] + [pct(per[t]["f"]) if t in per else "-" for t in types]
                    + [pct(sp.get("ents_p")), pct(sp.get("ents_r")), pct(sp.get("ents_f"))])
    return _table(header, rows)


def errors_table(metrics: Sequence[dict], view: str) -> str:
    header = ["system"] + list(CLASSES) + ["gold", "predicted", "misaligned"]
    rows = []
    for m in metrics:
        counts = m["views"].get(view, {}).get("errors", {}).get("counts", {})
        al = m.get("alignment", {})
        rows.append([m["system"]] + [counts.get(c, {}).get("total", "-") for c in CLASSES]
                    + [al.get("n_gold", "-"), al.get("n_pred", "-"), al.get("misaligned", "-")])
    return _table(header, rows)


def error_samples_md(m: dict, view: str, per_class: int = 3) -> str:
    lines = []
    samples = m["views"].get(view, {}).get("errors", {}).get("samples", {})
    for cls in CLASSES[1:]:
        for s in samples.get(cls, [])[:per_class]:
            context = s["context"].replace("|", "\\|")
            lines.append(f"- {cls}: {context}")
    return "\n".join(lines) + ("\n" if lines else "")


def usage_table(metrics: Sequence[dict]) -> Optional[str]:
    rows = []
    for m in metrics:
        u, p = m.get("llm_usage"), m.get("parse")
        if not u and not p:
            continue
        u, p = u or {}, p or {}
        dropped = ", ".join(f"{k}: {v}" for k, v in (p.get("dropped") or {}).items()) or "-"
        rows.append([m["system"], u.get("requests", "-"), u.get("prompt_tokens", "-"),
                     u.get("completion_tokens", "-"), u.get("cache_hits", "-"),
                     num(u.get("cost"), 4) if u else "-", p.get("given", "-"), p.get("aligned", "-"), dropped])
    if not rows:
        return None
    header = ["system", "requests", "prompt tokens", "completion tokens", "cache hits", "est. cost",
              "spans given", "aligned", "dropped (reason: n)"]
    return _table(header, rows)


def timings_md(timings: Optional[Dict[str, float]]) -> Optional[str]:
    if not timings:
        return None
    total = sum(timings.values())
    rows = [[step, num(s), f"{s / 60:.1f}"] for step, s in timings.items()]
    rows.append(["**total**", f"**{num(total)}**", f"**{total / 60:.1f}**"])
    return f"Total run time: {total / 60:.1f} min ({total:,.0f} s).\n\n" + _table(["step", "seconds", "minutes"], rows)


def plot_f1(metrics: Sequence[dict], view: str, output: Union[str, Path]) -> Path:
    """Grouped bar chart: F1 (seqeval strict) per type, one bar per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = view_types(metrics, view) + ["micro", "macro"]
    n = max(1, len(metrics))
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(7.0, 1.2 * len(types) + 0.25 * n + 2.0), 4.2))
    for i, m in enumerate(metrics):
        s = _seq(m, view)
        vals = []
        for t in types:
            prf = s.get(t) if t in ("micro", "macro") else s.get("per_type", {}).get(t)
            vals.append(100 * prf["f"] if prf else 0.0)
        xs = [k + (i - (n - 1) / 2) * width for k in range(len(types))]
        ax.bar(xs, vals, width=width, label=m["system"])
    ax.set_xticks(range(len(types)))
    ax.set_xticklabels(types, rotation=20, ha="right")
    ax.set_ylabel("F1 (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"RareDis NER, seqeval strict F1 per type ({view})")
    ax.grid(axis="y", alpha=0.3)
    if metrics:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    plt.close(fig)
    return output


def results_snippet(metrics: Sequence[dict], timings: Optional[Dict[str, float]] = None) -> str:
    """The README results table (our measurements only)."""
    corpora = sorted({f"`{corpus_name(m.get('corpus'))}` ({m.get('n_docs')} docs)" for m in metrics})
    several = len({(corpus_name(m.get("corpus")), m.get("n_docs")) for m in metrics}) > 1
    header = ["system"] + (["data (docs)"] if several else []) + [
        "micro F1 (5 types)", "macro F1 (5 types)", "micro F1 (4 types)", "macro F1 (4 types)",
        "words/s", "wall time (s)"]
    rows = []
    for m in metrics:
        s5, s4, sp = _seq(m, "5type"), _seq(m, "4type"), m.get("speed", {})
        data = [f"{corpus_name(m.get('corpus'))} ({m.get('n_docs')})"] if several else []
        rows.append([m["system"]] + data + [
            pct(s5.get("micro", {}).get("f")), pct(s5.get("macro", {}).get("f")),
            pct(s4.get("micro", {}).get("f")), pct(s4.get("macro", {}).get("f")),
            rate(sp.get("words_per_s")), num(sp.get("wall_s"), 2)])
    text = (f"Measured by `scripts/evaluate.py` on {', '.join(corpora) or '-'}: entity-level F1 in %, "
            "seqeval strict (IOB2) on the gold tokens; 4 types = SKINRAREDISEASE merged into "
            "RAREDISEASE. Details, per-type scores and errors: `metrics/REPORT.md`.\n\n")
    text += _table(header, rows)
    if timings:
        total = sum(timings.values())
        text += f"\nTotal run time of the workflow: {total / 60:.1f} min.\n"
    return text


def splice_readme(readme: Union[str, Path], snippet: str) -> bool:
    """Replace the text between the results markers of ``readme``; False if no markers."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf8")
    pattern = re.compile(re.escape(RESULTS_START) + r".*?" + re.escape(RESULTS_END), re.DOTALL)
    if not pattern.search(text):
        return False
    new = pattern.sub(lambda _: f"{RESULTS_START}\n{snippet.rstrip()}\n{RESULTS_END}", text, count=1)
    readme.write_text(new, encoding="utf8")
    return True


def report_markdown(metrics: Sequence[dict], timings: Optional[Dict[str, float]], published: dict,
                    charts: Dict[str, str], errors_html: Optional[str]) -> str:
    parts = ["# RareDis NER: results of every system", ""]
    if not metrics:
        parts.append("No metrics file found.\n")
    parts += [
        "All numbers are our own measurements, from the metrics files of `scripts/evaluate.py` "
        "(one scorer for every system). Scores in %. seqeval: strict mode, IOB2, entity level, on "
        "the gold tokenization (predictions projected onto gold tokens). 4type: SKINRAREDISEASE "
        "merged into RAREDISEASE in gold and predictions.",
        "",
        "## Overview",
        "",
        overview_table(metrics),
    ]
    t = timings_md(timings)
    if t:
        parts += ["## Run time of the workflow", "", t]
    for view in VIEWS:
        parts += [f"## Per type, {view} (seqeval strict): F1 (P/R)", "", per_type_table(metrics, view)]
        if view in charts:
            parts += [f"![F1 per type, {view}]({charts[view]})", ""]
        parts += [f"### spaCy scorer, {view}: F1 per type", "", spacy_table(metrics, view)]
        parts += [f"### Error breakdown, {view}", "",
                  "Classes as in `raredis_llm/scoring/errors.py` (each prediction and gold entity "
                  "classified once).", "", errors_table(metrics, view)]
    u = usage_table(metrics)
    if u:
        parts += ["## LLM usage and response parsing", "", u]
    parts += ["## Error samples (5type)", ""]
    if errors_html:
        parts += [f"Gold vs predicted for sentences with errors: [{errors_html}]({errors_html})", ""]
    for m in metrics:
        parts += [f"### {m['system']}", "", error_samples_md(m, "5type") or "No error.\n"]
    parts += ["## Systems", ""]
    sys_rows = [[m["system"], f"`{m['model']}`" if m.get("model") else "-", ", ".join(m.get("pipeline", [])), m.get("n_docs"),
                 m.get("seed"), m.get("date"), (m.get("git_commit") or "-")[:10]] for m in metrics]
    parts += [_table(["system", "model", "pipeline", "docs", "seed", "date", "commit"], sys_rows)]
    parts += [published_markdown(published, list(labels_for("4type")) + ["micro", "macro"])]
    return "\n".join(parts)


def build_report(
    metrics_dir: Union[str, Path],
    output: Optional[Union[str, Path]] = None,
    results: Optional[Union[str, Path]] = None,
    readme: Optional[Union[str, Path]] = None,
    max_html_docs: int = 50,
    published_path: Optional[Union[str, Path]] = None,
) -> Dict[str, object]:
    """Write REPORT.md, ``f1_per_type_<view>.png``, ``errors.html`` and RESULTS.md
    (beside REPORT.md unless told) and, with ``readme``, splice RESULTS into it."""
    metrics_dir = Path(metrics_dir)
    output = Path(output) if output is not None else metrics_dir / "REPORT.md"
    results = Path(results) if results is not None else output.with_name("RESULTS.md")
    metrics = load_metrics(metrics_dir)
    timings = load_timings(metrics_dir)
    out_dir = output.parent
    charts = {}
    for view in VIEWS:
        png = plot_f1(metrics, view, out_dir / f"f1_per_type_{view}.png")
        charts[view] = png.name
    systems = []
    for m in metrics:
        name = m.get("errors_file")
        path = Path(m["_path"]).parent / name if name else None
        if path is not None and path.exists():
            systems.append((m["system"], read_error_docs(path)))
    html_path = write_errors_page(systems, out_dir / "errors.html", max_docs=max_html_docs)
    published = load_published(published_path)
    output.write_text(report_markdown(metrics, timings, published, charts, html_path.name), encoding="utf8")
    snippet = results_snippet(metrics, timings)
    results.write_text(snippet, encoding="utf8")
    spliced = splice_readme(readme, snippet) if readme is not None else None
    return {"report": output, "results": results, "charts": [out_dir / c for c in charts.values()],
            "errors_html": html_path, "systems": [m["system"] for m in metrics], "readme_spliced": spliced}
