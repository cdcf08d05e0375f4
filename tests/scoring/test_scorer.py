import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from spacy.util import registry

import raredis_llm.scoring.scorer  # noqa: F401  (registers raredis.ner_scorer.v1)


def test_registered_scorer_reports_spacy_and_seqeval_keys(gold_docs):
    scorer = registry.scorers.get("raredis.ner_scorer.v1")()
    nlp = spacy.blank("en")
    examples = []
    for g in gold_docs:
        p = nlp.make_doc(g.text)
        p.set_ents([Span(p, e.start, e.end, "RAREDISEASE" if e.label_ == "SKINRAREDISEASE" else e.label_)
                    for e in g.ents])
        examples.append(Example(p, g))
    out = scorer(examples)
    assert out["ents_f"] < 1.0 and "ents_per_type" in out
    assert out["ents_f_5type"] == pytest.approx(out["ents_f"])
    assert out["seqeval_micro_f_5type"] == pytest.approx(out["ents_f"])
    assert out["ents_f_4type"] == 1.0 and out["seqeval_micro_f_4type"] == 1.0
    assert out["seqeval_macro_f_4type"] == 1.0


def test_scorer_is_usable_from_a_pipeline_config(gold_docs):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"scorer": {"@scorers": "raredis.ner_scorer.v1"}})
    ruler.add_patterns([{"label": "RAREDISEASE", "pattern": "Fabry disease"}])
    scores = nlp.evaluate([Example(nlp.make_doc(g.text), g) for g in gold_docs[:1]])
    assert scores["seqeval_micro_f_5type"] == 1.0 and scores["ents_f"] == 1.0
