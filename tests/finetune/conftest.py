"""Fixtures for the fine-tuning tests: tiny hand-made sentence Docs, the real Gemma 3 270M
(where a test checks what its weights know) and the tiny decoder with its layout."""

import pytest
import spacy

from raredis_llm.corpus import schema


def make_sentence_docs():
    """Four sentence Docs of one document, one without entities."""
    nlp = spacy.blank("en")
    rows = [
        ("Fabry disease causes pain in the hands.", [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")]),
        ("It is rare.", []),
        ("Patients may have angiokeratomas and kidney failure.",
         [(18, 32, "SIGN"), (37, 51, "DISEASE")]),
        ("Epidermolysis bullosa affects the skin; fever is common.",
         [(0, 21, "SKINRAREDISEASE"), (40, 45, "SIGN")]),
    ]
    docs = []
    for i, (text, ents) in enumerate(rows):
        doc = nlp(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        doc.user_data[schema.DOC_ID] = "Fabry-Disease"
        doc.user_data[schema.SENT_INDEX] = i
        docs.append(doc)
    return docs


@pytest.fixture
def sentence_docs():
    return make_sentence_docs()


@pytest.fixture(scope="session")
def sentence_docs_factory():
    return make_sentence_docs


@pytest.fixture(scope="session")
def gemma():
    """(model, tokenizer) of the offline Gemma 3 270M base, float32 on CPU."""
    from raredis_llm.models.loading import load_causal_lm

    return load_causal_lm("offline:gemma-3-270m", device="cpu", dtype="float32", attn_implementation="sdpa")


@pytest.fixture(scope="session")
def tiny_lm(tiny_decoder):
    """(model, tokenizer) of the tiny random decoder with Gemma 3's layout, float32 on CPU."""
    from raredis_llm.models.loading import load_causal_lm

    return load_causal_lm(str(tiny_decoder), device="cpu", dtype="float32", attn_implementation="sdpa")
