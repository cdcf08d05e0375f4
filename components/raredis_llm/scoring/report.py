"""Gather ``metrics/*.json`` into ``REPORT.md``, F1 charts, an error page and the
README results table.

Every number in the tables is read from the metrics files written by ``evaluate``; each
F1 carries a 95% bootstrap interval over the scored sentences (documents for the
document-level view), and paired differences are computed on the sentences two systems
share (``bootstrap.py``, ``pairs.py``). Published numbers only ever appear in their own
section (``published.py``).
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..labels import VIEWS, labels_for
from .bootstrap import DEFAULT_N, Intervals, intervals
from .charts import plot_overview, plot_per_type
from .displacy_html import read_error_docs, write_errors_page
from .errors import CLASSES
from .pairs import compare_all, reader_pairs
from .published import load_published, published_markdown
from .timings import TIMINGS_FILE
from .units import METRICS, SCORE_KEYS, Units

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
#: rows scored on fewer sentences are marked: their intervals are wide
MIN_SENTENCES = 100
MARK = "†"
#: a system whose metrics file carries warnings (e.g. training stopped by the safety cap)
WARN_MARK = "‡"
HEADLINE = ("strict", "5type")
#: the paired table's columns: (metric view, label view)
PAIR_COLUMNS = (("strict", "5type"), ("strict", "4type"), ("doc", "4type"))


def pct(x: Optional[float]) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def num(x: Optional[float], digits: int = 1) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def rate(x: Optional[float]) -> str:
    """Words or docs per second: no decimals from 100 up."""
    return num(x, 0 if x is not None and x >= 100 else 1)


def pct_ci(f: Optional[float], ci: Optional[Tuple[float, float]]) -> str:
    """``62.6 (60.1–65.0)``: F1 and its interval in %."""
    if f is None:
        return "-"
    return pct(f) + (f" ({pct(ci[0])}–{pct(ci[1])})" if ci is not None else "")


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
        data = _optional_json(path)
        if isinstance(data, dict) and "views" in data and "system" in data:
            data["_path"] = str(path)
            out.append(data)
    return sorted(out, key=lambda m: m["system"])


def _optional_json(path: Path) -> Optional[Any]:
    """A step's JSON output, or None when that step did not run; a broken file is an error
    naming it."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err})") from err


def load_timings(metrics_dir: Union[str, Path]) -> Optional[Dict[str, float]]:
    path = Path(metrics_dir) / TIMINGS_FILE
    data = _optional_json(path)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected {{step: seconds}}")
    return {str(k): float(v) for k, v in data.items()}


BENCHMARK_FILE = "benchmark_llm.json"


def benchmark_md(metrics_dir: Union[str, Path]) -> Optional[str]:
    """The engine benchmark (``benchmark-llm``) as Markdown, when it ran."""
    b = _optional_json(Path(metrics_dir) / BENCHMARK_FILE)
    if b is None:
        return None
    cpu, auto, probe = b.get("cpu", {}), b.get("dtype_auto", {}), b.get("matmul_gflops", {})
    parts = [
        f"On {b.get('sentences')} test sentences (seed {b.get('seed')}), CPU capability "
        f"{cpu.get('capability')}, native bf16: {cpu.get('native_bf16')}, {cpu.get('threads')} threads; "
        f"dtype auto -> {auto.get('dtype')} ({auto.get('reason')}). Matrix product probe: float32 "
        f"{probe.get('float32')} GFLOP/s, bfloat16 {probe.get('bfloat16')} GFLOP/s. Ratios are against the "
        "first row, measured in the same run; \"same entities\" counts sentences tagged exactly as the "
        "reference.", "",
        markdown_table(["engine / lever", "words/s", "vs reference", "same entities", "meant to alter outputs"],
                       [[r["lever"], num(r["words_per_second"]), f"{r['speedup_vs_reference']:.2f}x",
                         f"{r['agreement']['same_entities']}/{r['agreement']['sentences']}",
                         "yes" if r["alters_outputs"] else "no"] for r in b.get("rows", [])]),
    ]
    for name, prompt_rows in (b.get("prompting") or {}).items():
        n_prompt = b.get("prompting_sentences", b.get("sentences"))
        parts += [f"Prompting backend, `{name}`, the first {n_prompt} of these sentences (response cache off):", "",
                  markdown_table(["decoder", "words/s", "vs reference", "same entities"],
                                 [[r["lever"], num(r["words_per_second"]), f"{r['speedup_vs_reference']:.2f}x",
                                   f"{r['agreement']['same_entities']}/{r['agreement']['sentences']}"]
                                  for r in prompt_rows])]
    effect = b.get("constraint_effect_validation")
    if effect:
        parts += [f"Constrained decoding on {effect['sentences']} validation sentences: micro F1 "
                  f"{pct(effect['constrained']['f'])} with the constraint, {pct(effect['free']['f'])} without.", ""]
    training = (b.get("training") or {}).get("rows")
    if training:
        parts += ["Training speed (same batches of the training split):", "",
                  markdown_table(["recipe", "dtype", "s/step", "sentences/s", "vs before"],
                                 [[r["recipe"], r.get("dtype", "-"), num(r.get("seconds_per_step"), 2),
                                   num(r.get("sentences_per_second"), 2),
                                   f"{r['speedup_vs_before']:.2f}x" if "speedup_vs_before" in r else r.get("skipped", "-")]
                                  for r in training])]
    return "\n".join(parts)


SELECTION_FILE = "selection.json"


def selection_md(metrics_dir: Union[str, Path]) -> Optional[str]:
    """Which pipeline ``en_raredis_llm`` packages and why (``select-pipeline``), when it ran."""
    s = _optional_json(Path(metrics_dir) / SELECTION_FILE)
    if s is None:
        return None
    rows = [[f"**{r['system']}**" if r["system"] == s["chosen"] else r["system"], pct(r.get("f_5type")),
             pct(r.get("f_4type")), rate(r.get("words_per_s"))] for r in s.get("candidates", [])]
    return "\n".join([
        f"`en_raredis_llm` packages **{s['chosen']}** (`{s['pipeline']}`): {s.get('rule')}, on "
        f"{s.get('n_docs')} sentences of `{corpus_name(s.get('split'))}` (seed {s.get('seed')}). The test "
        "split played no part in the choice.", "",
        markdown_table(["candidate", "validation micro F1, 5type", "4type", "words/s"], rows)])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def view_types(metrics: Sequence[dict], view: str) -> List[str]:
    """The view's target labels, then any other label a system was scored on."""
    types = list(labels_for(view))
    for m in metrics:
        for key in SCORE_KEYS.values():
            for label in m["views"].get(view, {}).get(key, {}).get("per_type", {}):
                if label not in types:
                    types.append(label)
    return types


def _seq(m: dict, view: str, metric: str = "strict") -> dict:
    return m["views"].get(view, {}).get(SCORE_KEYS[metric], {})


@dataclass
class Scored:
    """One system's metrics with the intervals of every (metric view, label view)."""

    metrics: dict
    units: Optional[Units]
    intervals: Dict[Tuple[str, str], Intervals] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return self.metrics["system"]

    @property
    def n_sentences(self) -> int:
        return int(self.metrics.get("n_docs") or 0)

    @property
    def marked(self) -> bool:
        return self.n_sentences < MIN_SENTENCES

    @property
    def label(self) -> str:
        return (self.system + (f" {MARK}" if self.marked else "")
                + (f" {WARN_MARK}" if self.metrics.get("warnings") else ""))

    def get(self, metric: str, view: str, key: str) -> Tuple[Optional[float], Optional[Tuple[float, float]]]:
        iv = self.intervals.get((metric, view))
        return iv.get(key) if iv is not None else (None, None)

    def cell(self, metric: str, view: str, key: str) -> str:
        return pct_ci(*self.get(metric, view, key))

    def headline(self) -> float:
        return self.get(*HEADLINE, "micro")[0] or 0.0


def _stored_intervals(m: dict, metric: str, view: str) -> Optional[Intervals]:
    """Point estimates without intervals, for a metrics file without the per-sentence record."""
    s = _seq(m, view, metric)
    if not s:
        return None
    return Intervals(int(m.get("n_docs") or 0), s["micro"]["f"], s["macro"]["f"],
                     {t: v["f"] for t, v in s.get("per_type", {}).items()}, None, None, {})


def score_systems(metrics: Sequence[dict], n_boot: int = DEFAULT_N, seed: int = 0) -> List[Scored]:
    """Intervals of every F1 of every system (``n_boot`` resamples, ``seed``)."""
    out = []
    for m in metrics:
        units = Units.from_metrics(m)
        scored = Scored(m, units)
        for metric in METRICS:
            for view in m["views"]:
                if units is not None:
                    _, types, counts = units.unit_counts(metric, view)
                    scored.intervals[(metric, view)] = intervals(counts, types, n_boot=n_boot, seed=seed)
                else:
                    iv = _stored_intervals(m, metric, view)
                    if iv is not None:
                        scored.intervals[(metric, view)] = iv
        out.append(scored)
    return out


def overview_table(scored: Sequence[Scored]) -> str:
    header = ["system", "sentences", "micro F1 5type", "macro F1 5type", "micro F1 4type", "macro F1 4type",
              "words/s", "wall s", "peak RSS MB"]
    rows = []
    for sc in scored:
        sp = sc.metrics.get("speed", {})
        rows.append([sc.label, sc.n_sentences]
                    + [sc.cell("strict", view, avg) for view in VIEWS for avg in ("micro", "macro")]
                    + [rate(sp.get("words_per_s")), num(sp.get("wall_s"), 2), num(sp.get("peak_rss_mb"), 0)])
    return markdown_table(header, rows)


def metric_view_table(scored: Sequence[Scored], metric: str) -> str:
    """Systems x (micro, macro) x label views in one metric view, with intervals."""
    unit = "documents" if metric == "doc" else "sentences"
    header = ["system", unit] + [f"{avg} F1 {view}" for view in VIEWS for avg in ("micro", "macro")]
    rows = []
    for sc in scored:
        iv = sc.intervals.get((metric, next(iter(VIEWS))))
        rows.append([sc.label, iv.n_units if iv is not None else "-"]
                    + [sc.cell(metric, view, avg) for view in VIEWS for avg in ("micro", "macro")])
    return markdown_table(header, rows)


def per_type_table(scored: Sequence[Scored], view: str, metric: str = "strict") -> str:
    """Systems x types: F1 with its interval, plus micro and macro."""
    types = view_types([sc.metrics for sc in scored], view)
    header = ["system"] + types + ["micro", "macro"]
    rows = [[sc.label] + [sc.cell(metric, view, key) for key in types + ["micro", "macro"]] for sc in scored]
    return markdown_table(header, rows)


def precision_recall_table(scored: Sequence[Scored], view: str, metric: str = "strict") -> str:
    """Systems x types: ``P/R`` in %."""
    types = view_types([sc.metrics for sc in scored], view)
    header = ["system"] + types + ["micro", "macro"]
    rows = []
    for sc in scored:
        s = _seq(sc.metrics, view, metric)
        cells = []
        for key in types + ["micro", "macro"]:
            prf = s.get(key) if key in ("micro", "macro") else s.get("per_type", {}).get(key)
            cells.append("-" if not prf else f"{pct(prf['p'])}/{pct(prf['r'])}")
        rows.append([sc.label] + cells)
    return markdown_table(header, rows)


def paired_table(scored: Sequence[Scored], n_boot: int = DEFAULT_N, seed: int = 0,
                 extra_pairs: Sequence[Tuple[str, str]] = ()) -> Optional[str]:
    """The reader's comparisons (``pairs.py``): F1 differences with paired intervals."""
    units = {sc.system: sc.units for sc in scored if sc.units is not None}
    by_name = {sc.system: sc for sc in scored}
    pairs = reader_pairs([sc.system for sc in scored], lambda s: by_name[s].headline(), extra_pairs)
    rows = []
    for pair, n, diffs in compare_all(units, pairs, PAIR_COLUMNS, n_boot=n_boot, seed=seed):
        head = diffs[0]
        verdict = "no shared sentences" if head is None else {"A": f"**{pair.a}**", "B": f"**{pair.b}**"}.get(
            head.verdict, "no clear difference")
        cells = []
        for d in diffs:
            cells.append("-" if d is None else
                         (f"{100 * d.diff:+.1f}" + (f" ({100 * d.ci[0]:+.1f}, {100 * d.ci[1]:+.1f})" if d.ci else "")))
        rows.append([pair.why, pair.a, pair.b, n,
                     pct(head.a) if head else "-", pct(head.b) if head else "-"] + cells + [verdict])
    if not rows:
        return None
    header = ["comparison", "A", "B", "shared sentences", "A (shared, strict 5type)", "B (shared, strict 5type)"] + [
        f"Δ {METRICS[m][0]} {v} (95% CI)" for m, v in PAIR_COLUMNS] + ["better (strict 5type)"]
    return markdown_table(header, rows)


def spacy_table(metrics: Sequence[dict], view: str) -> str:
    types = view_types(metrics, view)
    header = ["system"] + types + ["ents_p", "ents_r", "ents_f"]
    rows = []
    for m in metrics:
        sp = m["views"].get(view, {}).get("spacy", {})
        per = sp.get("ents_per_type") or {}
        rows.append([m["system"]] + [pct(per[t]["f"]) if t in per else "-" for t in types]
                    + [pct(sp.get("ents_p")), pct(sp.get("ents_r")), pct(sp.get("ents_f"))])
    return markdown_table(header, rows)


def errors_table(metrics: Sequence[dict], view: str) -> str:
    header = ["system"] + list(CLASSES) + ["gold", "predicted", "misaligned"]
    rows = []
    for m in metrics:
        counts = m["views"].get(view, {}).get("errors", {}).get("counts", {})
        al = m.get("alignment", {})
        rows.append([m["system"]] + [counts.get(c, {}).get("total", "-") for c in CLASSES]
                    + [al.get("n_gold", "-"), al.get("n_pred", "-"), al.get("misaligned", "-")])
    return markdown_table(header, rows)


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
    return markdown_table(header, rows)


def timings_md(timings: Optional[Dict[str, float]]) -> Optional[str]:
    if not timings:
        return None
    total = sum(timings.values())
    rows = [[step, num(s), f"{s / 60:.1f}"] for step, s in timings.items()]
    rows.append(["**total**", f"**{num(total)}**", f"**{total / 60:.1f}**"])
    return f"Total run time: {total / 60:.1f} min ({total:,.0f} s).\n\n" + markdown_table(["step", "seconds", "minutes"], rows)


def chart_values(scored: Sequence[Scored], metric: str, view: str, keys: Sequence[str]) -> dict:
    return {sc.label: {k: sc.get(metric, view, k) for k in keys} for sc in scored}


def write_charts(scored: Sequence[Scored], out_dir: Path) -> Dict[str, str]:
    """``f1_overview.png`` (micro F1 of every system, both views) and
    ``f1_per_type_<view>.png``; returns ``{name: file name}``."""
    charts = {}
    series = {sc.system: {f"micro F1 {view}": sc.get("strict", view, "micro") for view in VIEWS} for sc in scored}
    png = plot_overview(series, [f"micro F1 {view}" for view in VIEWS],
                        "RareDis NER, strict span micro F1", out_dir / "f1_overview.png",
                        marked=[sc.system for sc in scored if sc.marked])
    charts["overview"] = png.name
    for view in VIEWS:
        keys = view_types([sc.metrics for sc in scored], view) + ["micro", "macro"]
        png = plot_per_type(chart_values(scored, "strict", view, keys), keys,
                            f"RareDis NER, strict span F1 per type ({view})", out_dir / f"f1_per_type_{view}.png")
        charts[view] = png.name
    return charts


def results_snippet(scored: Sequence[Scored], timings: Optional[Dict[str, float]] = None) -> str:
    """The README results table (our measurements only)."""
    corpora = sorted({f"`{corpus_name(sc.metrics.get('corpus'))}`" for sc in scored})
    header = ["system", "sentences", "micro F1 (5 types)", "macro F1 (5 types)", "micro F1 (4 types)",
              "macro F1 (4 types)", "words/s", "wall time (s)"]
    rows = []
    for sc in scored:
        sp = sc.metrics.get("speed", {})
        rows.append([sc.label, sc.n_sentences]
                    + [sc.cell("strict", view, avg) for view in VIEWS for avg in ("micro", "macro")]
                    + [rate(sp.get("words_per_s")), num(sp.get("wall_s"), 2)])
    text = (f"Measured by `scripts/evaluate.py` on {', '.join(corpora) or '-'}: entity-level F1 in %, "
            "seqeval strict (IOB2) on the gold tokens, with its 95% bootstrap interval over the scored "
            "sentences; 4 types = SKINRAREDISEASE merged into RAREDISEASE. "
            f"{MARK} fewer than {MIN_SENTENCES} sentences scored: read with care. Paired differences, "
            "the other metric views, per-type scores and errors: `metrics/REPORT.md`.\n\n")
    text += markdown_table(header, rows)
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


def report_markdown(scored: Sequence[Scored], timings: Optional[Dict[str, float]], published: dict,
                    charts: Dict[str, str], errors_html: Optional[str], n_boot: int = DEFAULT_N, seed: int = 0,
                    extra_pairs: Sequence[Tuple[str, str]] = (), benchmark: Optional[str] = None,
                    selection: Optional[str] = None) -> str:
    metrics = [sc.metrics for sc in scored]
    corpora = ", ".join(sorted({f"`{corpus_name(m.get('corpus'))}`" for m in metrics}))
    parts = ["# RareDis NER: results of every system", ""]
    if not metrics:
        parts.append("No metrics file found.\n")
    parts += [
        "All numbers are our own measurements, from the metrics files of `scripts/evaluate.py` "
        "(one scorer for every system). Scores in %. Each F1 comes with its 95% bootstrap interval "
        f"({n_boot} resamples of the scored sentences, seed {seed}; documents for the document-level "
        f"view). {MARK}: fewer than {MIN_SENTENCES} sentences scored, so the interval is wide. "
        "4type: SKINRAREDISEASE merged into RAREDISEASE in gold and predictions. Test data: "
        f"{corpora or '-'} "
        "(by default the public RareDis dev split; the papers below report on the official test split).",
        "",
        "Metric views:",
        "",
    ]
    parts += [f"- **{name}**: {what}." for name, what in METRICS.values()]
    parts += [
        "",
        "For predictions made as spans (every system of this project) the two seqeval modes agree; "
        "they differ on ill-formed tag sequences, e.g. a token/tag file of an outside system.",
        "",
        "## Overview (strict span, the headline)",
        "",
        overview_table(scored),
    ]
    warned = [(sc.system, w) for sc in scored for w in sc.metrics.get("warnings") or []]
    if warned:
        parts += [f"{WARN_MARK} " + "; ".join(f"**{system}**: {w}" for system, w in warned) + ".", ""]
    if "overview" in charts:
        parts += [f"![micro F1 with 95% intervals]({charts['overview']})", ""]
    if selection:
        parts += ["## The package: `en_raredis_llm`, chosen on the validation split", "", selection, ""]
    paired = paired_table(scored, n_boot=n_boot, seed=seed, extra_pairs=extra_pairs)
    parts += ["## Paired differences", ""]
    if paired:
        parts += [
            "Δ = F1(A) − F1(B), micro F1, on the sentences both systems scored (every system draws its "
            "sentences with the same nested seeded sampler, so a smaller sample lies inside a bigger one). "
            "The interval comes from resampling those shared sentences (documents for the document-level "
            "view) for both systems at once. A system is named better only when the interval of the "
            "strict 5type difference excludes 0. \"Best\" rows are chosen by their own test F1, for "
            "this table only.",
            "",
            paired,
        ]
    else:
        parts += ["No pair of systems with a per-sentence record to compare.", ""]
    t = timings_md(timings)
    if t:
        parts += ["## Run time of the workflow", "", t]
    if benchmark:
        parts += ["## LLM engines: speed and agreement (benchmark-llm)", "", benchmark, ""]
    parts += ["## Metric views: micro and macro F1", ""]
    for metric, (name, _) in METRICS.items():
        parts += [f"### {name}", "", metric_view_table(scored, metric)]
    parts += [published_markdown(published), ""]
    for metric, (name, _) in METRICS.items():
        for view in VIEWS:
            parts += [f"## Per type, {name}, {view}: F1 (95% CI)", "", per_type_table(scored, view, metric)]
            if metric == "strict":
                if view in charts:
                    parts += [f"![F1 per type, {view}]({charts[view]})", ""]
                parts += [f"### Precision / recall, {name}, {view}", "", precision_recall_table(scored, view, metric)]
    for view in VIEWS:
        parts += [f"## spaCy scorer, {view}: F1 per type (cross-check, no intervals)", "", spacy_table(metrics, view)]
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
    sys_rows = []
    for m in metrics:
        sample = m.get("sample") or {}
        sys_rows.append([m["system"], f"`{m['model']}`" if m.get("model") else "-", ", ".join(m.get("pipeline", [])),
                         f"{m.get('n_docs')} of {m.get('n_docs_total', '-')}", m.get("seed"),
                         "yes" if m.get("units") else "no", m.get("date"), (m.get("git_commit") or "-")[:10]])
    parts += [markdown_table(["system", "model", "pipeline", "sentences", "sample seed", "per-sentence record", "date",
                      "commit"], sys_rows)]
    return "\n".join(parts)


def build_report(
    metrics_dir: Union[str, Path],
    output: Optional[Union[str, Path]] = None,
    results: Optional[Union[str, Path]] = None,
    readme: Optional[Union[str, Path]] = None,
    max_html_docs: int = 50,
    published_path: Optional[Union[str, Path]] = None,
    n_boot: int = DEFAULT_N,
    seed: int = 0,
    extra_pairs: Sequence[Tuple[str, str]] = (),
) -> Dict[str, object]:
    """Write REPORT.md, the charts, ``errors.html`` and RESULTS.md (beside REPORT.md
    unless told) and, with ``readme``, splice RESULTS into it."""
    metrics_dir = Path(metrics_dir)
    output = Path(output) if output is not None else metrics_dir / "REPORT.md"
    results = Path(results) if results is not None else output.with_name("RESULTS.md")
    metrics = load_metrics(metrics_dir)
    scored = score_systems(metrics, n_boot=n_boot, seed=seed)
    timings = load_timings(metrics_dir)
    out_dir = output.parent
    charts = write_charts(scored, out_dir)
    systems = []
    for m in metrics:
        name = m.get("errors_file")
        path = Path(m["_path"]).parent / name if name else None
        if path is not None and path.exists():
            systems.append((m["system"], read_error_docs(path)))
    html_path = write_errors_page(systems, out_dir / "errors.html", max_docs=max_html_docs)
    published = load_published(published_path)
    output.write_text(report_markdown(scored, timings, published, charts, html_path.name, n_boot=n_boot,
                                      seed=seed, extra_pairs=extra_pairs, benchmark=benchmark_md(metrics_dir),
                                      selection=selection_md(metrics_dir)),
                      encoding="utf8")
    snippet = results_snippet(scored, timings)
    results.write_text(snippet, encoding="utf8")
    spliced = splice_readme(readme, snippet) if readme is not None else None
    return {"report": output, "results": results, "charts": [out_dir / c for c in charts.values()],
            "errors_html": html_path, "systems": [m["system"] for m in metrics], "readme_spliced": spliced}
