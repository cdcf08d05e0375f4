"""Fixtures of the annotate tests."""

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
