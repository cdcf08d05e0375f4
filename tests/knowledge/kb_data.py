"""Test data of the knowledge-base tests: hand-made excerpts of the HPO files and a helper
for hand-annotated Docs (imported as ``tests.knowledge.kb_data``)."""

from pathlib import Path
from typing import Sequence, Tuple

import spacy
from spacy.tokens import Doc

DATA = Path(__file__).parent / "data"
TINY_OBO = DATA / "tiny_hp.obo"
TINY_HPOA = DATA / "tiny_phenotype.hpoa"
NLP = spacy.blank("en")


def gold_doc(text: str, mentions: Sequence[Tuple[str, str]]) -> Doc:
    """A hand-annotated Doc: ``mentions`` are (phrase, label), found left to right."""
    doc = NLP.make_doc(text)
    ents, pos = [], 0
    for phrase, label in mentions:
        start = text.index(phrase, pos)
        pos = start + len(phrase)
        ents.append(doc.char_span(start, pos, label=label))
    doc.ents = ents
    return doc
