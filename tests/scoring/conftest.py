import os

import pytest
import spacy
from spacy.tokens import DocBin

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from raredis_llm.corpus import schema  # noqa: E402

#: (text, [(entity text, label)]) -- a few RareDis-like sentences; each entity text
#: is looked up left to right.
SENTENCES = [
    ("Fabry disease is a rare inherited disorder of lipid metabolism.", [("Fabry disease", "RAREDISEASE")]),
    ("Affected individuals may have severe pain in the hands and feet, called acroparesthesia.",
     [("severe pain in the hands and feet", "SYMPTOM"), ("acroparesthesia", "SYMPTOM")]),
    ("Angiokeratomas are small, raised, dark red spots on the skin.", [("Angiokeratomas", "SIGN")]),
    ("Epidermolysis bullosa simplex is a skin disorder; kidney failure may follow diabetes.",
     [("Epidermolysis bullosa simplex", "SKINRAREDISEASE"), ("skin disorder", "DISEASE"),
      ("kidney failure", "DISEASE"), ("diabetes", "DISEASE")]),
    ("The disorder affects about 1 in 40,000 males.", []),
    ("Corneal opacity, hearing loss and fever are common.",
     [("Corneal opacity", "SIGN"), ("hearing loss", "SIGN"), ("fever", "SYMPTOM")]),
]


def char_ents(text, ents):
    out, pos = [], 0
    for sub, label in ents:
        start = text.index(sub, pos)
        out.append((start, start + len(sub), label))
        pos = start + len(sub)
    return out


def make_gold_docs(nlp=None):
    nlp = nlp or spacy.blank("en")
    docs = []
    for i, (text, ents) in enumerate(SENTENCES):
        doc = nlp.make_doc(text)
        doc.set_ents([doc.char_span(s, e, label=l, alignment_mode="strict") for s, e, l in char_ents(text, ents)],
                     default="outside")
        doc.user_data[schema.DOC_ID] = f"doc{i // 2}"
        doc.user_data[schema.SENT_INDEX] = i % 2
        doc.user_data[schema.CHAR_OFFSET] = 0
        docs.append(doc)
    return docs


@pytest.fixture
def gold_docs():
    return make_gold_docs()


@pytest.fixture
def gold_docbin(tmp_path, gold_docs):
    path = tmp_path / "gold.spacy"
    DocBin(docs=gold_docs, store_user_data=True).to_disk(path)
    return path
