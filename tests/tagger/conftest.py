"""Fixtures for the tagger tests: tiny hand-made corpora."""

import pytest
import spacy
from spacy.tokens import DocBin

from raredis_llm.corpus import schema

ROWS = [
    ("Fabry disease causes pain in the hands.", [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")]),
    ("It is rare.", []),
    ("Patients may have angiokeratomas and kidney failure.", [(18, 32, "SIGN"), (37, 51, "DISEASE")]),
    ("Epidermolysis bullosa affects the skin; fever is common.", [(0, 21, "SKINRAREDISEASE"), (40, 45, "SIGN")]),
    ("Fabry disease may cause fever.", [(0, 13, "RAREDISEASE"), (24, 29, "SIGN")]),
    ("Kidney failure and pain are common in Fabry disease.",
     [(0, 14, "DISEASE"), (19, 23, "SYMPTOM"), (38, 51, "RAREDISEASE")]),
]


def make_docs(rows=ROWS):
    nlp = spacy.blank("en")
    docs = []
    for i, (text, ents) in enumerate(rows):
        doc = nlp(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        doc.user_data[schema.DOC_ID] = "Fabry-Disease"
        doc.user_data[schema.SENT_INDEX] = i
        doc.user_data[schema.CONTEXT] = rows[0][0]
        docs.append(doc)
    return docs


@pytest.fixture(scope="session")
def tagger_docs():
    """The hand-made sentence Docs (a function: ``tagger_docs(rows=ROWS)``)."""
    return make_docs


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """train.spacy / validation.spacy of the hand-made sentences."""
    path = tmp_path_factory.mktemp("tagger_corpus")
    DocBin(docs=make_docs(), store_user_data=True).to_disk(path / "train.spacy")
    DocBin(docs=make_docs(ROWS[:3]), store_user_data=True).to_disk(path / "validation.spacy")
    return path
