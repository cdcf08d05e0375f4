"""Tiny trained ner pipelines (seeded) for the guard, composition and README tests."""

import random
from typing import List

import spacy
from spacy.language import Language
from spacy.training import Example


def train_ner(nlp: Language, examples: List[Example], iterations: int) -> Language:
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(0)
    examples = list(examples)
    for _ in range(iterations):
        rng.shuffle(examples)
        nlp.update(examples, sgd=optimizer, drop=0.0)
    return nlp


def drug_ner(negatives: List[str]) -> Language:
    """Another team's pipeline: its own trained ner (label DRUG, its own tok2vec)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    data = [("Started on aspirin today.", "aspirin"), ("Given ibuprofen for pain.", "ibuprofen"),
            ("Takes metformin daily.", "metformin"), ("No aspirin since Monday.", "aspirin")]
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": [(t.index(d), t.index(d) + len(d), "DRUG")]})
                for t, d in data]
    examples += [Example.from_dict(nlp.make_doc(t), {"entities": []}) for t in negatives]
    return train_ner(nlp, examples, 30)
