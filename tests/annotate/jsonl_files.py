"""Small JSONL file helpers for the annotate tests."""

import json
from pathlib import Path


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf8") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def read_jsonl(path: Path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf8").splitlines()]
