"""raredis.NoisyCopies.v1: each example kept, noised copies with the same entities, never
a line break or a tag inside an entity, seeded; it trains with spacy train."""

import random

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import registry

from raredis_llm.guard.augment import KINDS, noised_copy
from raredis_llm.guard.boundaries import barrier_tokens


@pytest.fixture(scope="module")
def examples(tiny_corpus):
    nlp = spacy.blank("en")
    docs = [d for d in DocBin().from_disk(tiny_corpus / "train.spacy").get_docs(nlp.vocab) if d.ents]
    return nlp, [Example(nlp.make_doc(d.text), d) for d in docs[:30]]


@pytest.mark.parametrize("kinds", [[k] for k in KINDS] + [list(KINDS)])
def test_copies_keep_the_entities(examples, kinds):
    nlp, exs = examples
    rng = random.Random(0)
    for ex in exs:
        copy = noised_copy(nlp, ex, kinds, rng)
        ref = copy.reference
        assert [(e.text.lower(), e.label_) for e in ref.ents] == [(e.text.lower(), e.label_) for e in ex.reference.ents]
        barriers = barrier_tokens(ref)
        assert not any(i in barriers for e in ref.ents for i in range(e.start, e.end))
        assert copy.predicted.text == ref.text
    if kinds == ["uppercase"]:
        assert ref.text == ref.text.upper()
    if "bullets" in kinds:
        assert "\n- " in ref.text
    if "markup" in kinds:
        assert ref.text.startswith("<p>") and "<b>" in ref.text


def test_level_and_seed(examples):
    nlp, exs = examples
    augment = registry.augmenters.get("raredis.NoisyCopies.v1")(level=0.5)

    def run():
        random.seed(3)
        return [e.reference.text for ex in exs for e in augment(nlp, ex)]

    first = run()
    assert first == run()
    assert len(exs) < len(first) < 2 * len(exs)
    none = registry.augmenters.get("raredis.NoisyCopies.v1")(level=0.0)
    assert [e.reference.text for ex in exs for e in none(nlp, ex)] == [ex.reference.text for ex in exs]
