"""An HTML page of gold vs predicted entities (spaCy displaCy, manual mode).

Input: the ``<system>.errors.jsonl`` files written by ``evaluate``; one section per
system, one row per sentence with errors: gold on the left, prediction on the right.
"""

import html
import json
from pathlib import Path
from typing import List, Sequence, Tuple, Union

from spacy import displacy

COLORS = {
    "RAREDISEASE": "#f4a582",
    "SKINRAREDISEASE": "#d6604d",
    "DISEASE": "#92c5de",
    "SIGN": "#b8e186",
    "SYMPTOM": "#fee08b",
}

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
td {{ vertical-align: top; border-top: 1px solid #ccc; padding: 0.4em; width: 50%; }}
th {{ text-align: left; }}
.meta {{ color: #555; font-size: 0.85em; }}
.entities {{ line-height: 2.2 !important; }}
</style></head><body>
<h1>{title}</h1>
<p>Sentences where the prediction differs from gold (5-type labels; predictions as
scored, i.e. projected onto the gold tokens). Left: gold, right: prediction.</p>
{toc}
{body}
</body></html>
"""


def read_error_docs(path: Union[str, Path]) -> List[dict]:
    path = Path(path)
    rows = []
    with path.open(encoding="utf8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{n}: not JSON ({err})") from err
    return rows


def _render(text: str, ents: Sequence[Sequence], title: str) -> str:
    manual = {"text": text, "ents": [{"start": s, "end": e, "label": l} for s, e, l in ents], "title": None}
    markup = displacy.render(manual, style="ent", manual=True, page=False, jupyter=False,
                             options={"colors": COLORS})
    return f"<div class='meta'>{html.escape(title)}</div>{markup}"


def errors_page(systems: Sequence[Tuple[str, Sequence[dict]]], max_docs: int = 50,
                title: str = "RareDis NER errors: gold vs predicted") -> str:
    """The page for ``[(system, error_docs)]``; at most ``max_docs`` rows per system."""
    toc = "<ul>" + "".join(
        f"<li><a href='#sys-{i}'>{html.escape(name)}</a> ({len(rows)} sentences with errors)</li>"
        for i, (name, rows) in enumerate(systems)
    ) + "</ul>"
    sections = []
    for i, (name, rows) in enumerate(systems):
        shown = rows[:max_docs]
        out = [f"<h2 id='sys-{i}'>{html.escape(name)}</h2>",
               f"<p class='meta'>{len(shown)} of {len(rows)} sentences with errors shown.</p>",
               "<table><tr><th>gold</th><th>predicted</th></tr>"]
        for row in shown:
            counts = ", ".join(f"{k}: {v}" for k, v in row.get("errors", {}).items())
            meta = f"{row.get('doc', '')} {counts}".strip()
            out.append("<tr><td>" + _render(row["text"], row["gold"], meta) + "</td><td>"
                       + _render(row["text"], row["pred"], "") + "</td></tr>")
        out.append("</table>")
        sections.append("\n".join(out))
    return PAGE.format(title=html.escape(title), toc=toc, body="\n".join(sections))


def write_errors_page(systems: Sequence[Tuple[str, Sequence[dict]]], output: Union[str, Path],
                      max_docs: int = 50) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(errors_page(systems, max_docs=max_docs), encoding="utf8")
    return output
