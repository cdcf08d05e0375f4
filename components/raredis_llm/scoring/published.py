"""Published reference numbers (``published.json``), kept apart from our measurements.

They are only ever shown in their own labelled tables, one per paper, split, metric view
and label view, because they come from other splits, tokenizations and scorers. Each
entry names the metric view it was computed in (``units.METRICS``), so the reader knows
which of our tables to hold it against.
"""

import json
from collections import OrderedDict
from pathlib import Path
from typing import List, Optional, Union

from ..labels import VIEWS, labels_for
from .units import METRICS

PUBLISHED_JSON = Path(__file__).with_name("published.json")
REQUIRED = ("source", "split", "metric", "view", "system", "values")
AVERAGES = ("micro", "macro")


def _check_scores(path: Path, i: int, name: str, values: dict) -> None:
    for key, value in values.items():
        if not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"{path}: entry {i} {name} {key}={value!r} is not a score in [0, 1]")


def load_published(path: Optional[Union[str, Path]] = None) -> dict:
    """The data file, its entries checked for the required fields, metric and view."""
    path = Path(path) if path is not None else PUBLISHED_JSON
    data = json.loads(path.read_text(encoding="utf8"))
    for i, entry in enumerate(data.get("entries", [])):
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            raise ValueError(f"{path}: entry {i} lacks {missing}")
        if entry["metric"] not in METRICS:
            raise ValueError(f"{path}: entry {i} metric {entry['metric']!r} is not one of {list(METRICS)}")
        if entry["view"] not in VIEWS:
            raise ValueError(f"{path}: entry {i} view {entry['view']!r} is not one of {list(VIEWS)}")
        for name in ("values", "precision", "recall"):
            _check_scores(path, i, name, entry.get(name) or {})
    return data


def _cell(entry: dict, key: str) -> str:
    if key not in entry["values"]:
        return "-"
    f = f"{100 * entry['values'][key]:.1f}"
    p, r = (entry.get("precision") or {}).get(key), (entry.get("recall") or {}).get(key)
    return f + (f" ({100 * p:.1f}/{100 * r:.1f})" if p is not None and r is not None else "")


def published_markdown(data: dict) -> str:
    """A markdown section: one table per (source, table, split, metric view)."""
    lines = ["## Published numbers (not our measurements)", ""]
    entries = data.get("entries", [])
    if not entries:
        lines.append("No published number is included: " + data.get("status", "none verified yet."))
        return "\n".join(lines) + "\n"
    lines += ["Other splits, tokenizations and scorers than ours: each table names its split and "
              "metric view; hold it against our table in the same metric view and label view, "
              "never against another. F1 in %, (P/R) where the paper gives them.", ""]
    groups: "OrderedDict[tuple, List[dict]]" = OrderedDict()
    for e in entries:
        groups.setdefault((e["source"], e.get("table", "-"), e["split"], e["metric"]), []).append(e)
    for (source, table, split, metric), rows in groups.items():
        views = list(OrderedDict.fromkeys(e["view"] for e in rows))
        labels = list(OrderedDict.fromkeys(t for v in views for t in labels_for(v)))
        keys = [k for k in labels + list(AVERAGES) if any(k in e["values"] for e in rows)]
        url = rows[0].get("url")
        name = METRICS[metric][0]
        lines += [f"### {source}, {table}" + (f" (<{url}>)" if url else ""), "",
                  f"Split: {split}. Metric view: **{name}**, {' and '.join(views)}: compare with our "
                  + " and ".join(f"\"{name}, {v}\"" for v in views) + " tables.", ""]
        header = ["system", "strategy", "view"] + keys
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        notes = []
        for e in rows:
            cells = [e["system"], e.get("strategy", "-"), e["view"]] + [_cell(e, k) for k in keys]
            lines.append("| " + " | ".join(cells) + " |")
            if e.get("note"):
                notes.append(f"- {e['system']}, {e.get('strategy', '-')}, {e['view']}: {e['note']}")
        lines.append("")
        if notes:
            lines += notes + [""]
    agreement = data.get("agreement")
    if agreement:
        lines.append(f"Human ceiling: {agreement['metric']} {100 * agreement['value']:.1f} ({agreement['source']}).")
    return "\n".join(lines) + "\n"
