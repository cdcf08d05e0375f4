"""Test data of the knowledge-base tests: hand-made excerpts of the HPO files and a helper
for hand-annotated Docs (imported as ``tests.knowledge.kb_data``)."""

from pathlib import Path
from typing import Sequence, Tuple

import spacy
from spacy.tokens import Doc

from tests.llm.test_task import make_doc

DATA = Path(__file__).parent / "data"
TINY_OBO = DATA / "tiny_hp.obo"
TINY_HPOA = DATA / "tiny_phenotype.hpoa"
NLP = spacy.blank("en")


def gold_doc(text: str, mentions: Sequence[Tuple[str, str]]) -> Doc:
    """A hand-annotated Doc: ``mentions`` are (phrase, label), found left to right."""
    return make_doc(NLP, "KB-TEST", 0, text, mentions)
