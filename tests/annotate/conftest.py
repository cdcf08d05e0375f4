import json
from pathlib import Path
from typing import List, Tuple

import pytest
import spacy
from spacy.tokens import DocBin


@pytest.fixture(scope="session")
def sentences(tiny_corpus) -> List[Tuple[str, str]]:
    """(id, text) of every sentence of the tiny corpus, all splits."""
    nlp = spacy.blank("en")
    out = []
    for split in ("train", "validation", "test"):
        for i, doc in enumerate(DocBin().from_disk(tiny_corpus / f"{split}.spacy").get_docs(nlp.vocab)):
            out.append((f"{split}-{i:04d}", doc.text))
    return out


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf8") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def read_jsonl(path: Path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf8").splitlines()]
