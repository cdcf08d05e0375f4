"""Train a blank pipeline's ner on a few examples (seeded): for the guard and composition tests."""

import random
from typing import List

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
