"""Published reference numbers (``published.json``), kept apart from our measurements.

They are only ever shown in their own labelled table, with source, split, metric and
view named, because they come from other splits, tokenizations and scorers.
"""

import json
from pathlib import Path
from typing import List, Optional, Union

PUBLISHED_JSON = Path(__file__).with_name("published.json")
REQUIRED = ("source", "split", "metric", "view", "system", "values")


def load_published(path: Optional[Union[str, Path]] = None) -> dict:
    """The data file, its entries checked for the required fields."""
    path = Path(path) if path is not None else PUBLISHED_JSON
    data = json.loads(path.read_text(encoding="utf8"))
    for i, entry in enumerate(data.get("entries", [])):
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            raise ValueError(f"{path}: entry {i} lacks {missing}")
        for key, value in entry["values"].items():
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{path}: entry {i} value {key}={value!r} is not a score in [0, 1]")
    return data


def published_markdown(data: dict, columns: List[str]) -> str:
    """A markdown section with the published numbers, or a line saying there are none."""
    lines = ["## Published reference numbers (not our measurements)", ""]
    entries = data.get("entries", [])
    if not entries:
        lines.append("No published number is included: " + data.get("status", "none verified yet."))
        lines.append("")
        for src in data.get("sources_to_check", []):
            lines.append(f"- {src['source']} <{src['url']}>")
        return "\n".join(lines) + "\n"
    lines.append("Other splits, tokenizations and scorers than ours: compare with care. F1 in %.")
    lines.append("")
    header = ["source", "table", "split", "metric", "view", "system"] + columns
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for e in entries:
        vals = [f"{100 * e['values'][c]:.1f}" if c in e["values"] else "-" for c in columns]
        row = [e["source"], e.get("table", "-"), e["split"], e["metric"], e["view"], e["system"]] + vals
        lines.append("| " + " | ".join(str(x) for x in row) + " |")
    return "\n".join(lines) + "\n"
