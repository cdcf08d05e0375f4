"""raredis_llm.ensemble.vote: who wins a vote, and the components' errors."""

import pytest
import spacy

from raredis_llm.ensemble import collect_ents, resolve_votes


def test_majority_and_ties():
    a = [(0, 5, "SIGN"), (10, 20, "RAREDISEASE")]
    b = [(0, 5, "SIGN"), (10, 20, "DISEASE")]
    c = [(10, 20, "DISEASE"), (30, 35, "SYMPTOM")]
    # (10, 20): DISEASE has 2 votes, RAREDISEASE 1; (30, 35) has only 1
    assert resolve_votes([a, b, c], 2) == [((0, 5, "SIGN"), 2), ((10, 20, "DISEASE"), 2)]
    # a 1-1 tie between overlapping spans goes to the earlier voter
    assert resolve_votes([[(0, 9, "SIGN")], [(4, 12, "SYMPTOM")]], 1) == [((0, 9, "SIGN"), 1)]
    assert resolve_votes([[(4, 12, "SYMPTOM")], [(0, 9, "SIGN")]], 1) == [((4, 12, "SYMPTOM"), 1)]


def test_more_votes_beat_priority_and_repeats_count_once():
    first = [(0, 9, "SIGN"), (0, 9, "SIGN")]
    others = [(4, 12, "SYMPTOM")]
    assert resolve_votes([first, others, others], 1) == [((4, 12, "SYMPTOM"), 2)]
    assert resolve_votes([first, [], []], 2) == []


def test_union_keeps_disjoint_spans_in_text_order():
    got = resolve_votes([[(20, 25, "SIGN")], [(0, 3, "DISEASE")]], 1)
    assert got == [((0, 3, "DISEASE"), 1), ((20, 25, "SIGN"), 1)]
    with pytest.raises(ValueError, match="min_votes"):
        resolve_votes([[]], 0)


def test_components_in_a_pipeline():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="rules_a")
    ruler.add_patterns([{"label": "RAREDISEASE", "pattern": "Fabry disease"}, {"label": "SIGN", "pattern": "fever"}])
    nlp.add_pipe("raredis_collect_ents", name="a_collect", config={"key": "a"})
    ruler = nlp.add_pipe("entity_ruler", name="rules_b")
    ruler.add_patterns([{"label": "RAREDISEASE", "pattern": "Fabry disease"}, {"label": "SYMPTOM", "pattern": "pain"}])
    nlp.add_pipe("raredis_collect_ents", name="b_collect", config={"key": "b"})
    nlp.add_pipe("raredis_span_vote", config={"keys": ["a", "b"], "min_votes": 2})
    doc = nlp("Fabry disease with fever and pain.")
    assert [(e.text, e.label_) for e in doc.ents] == [("Fabry disease", "RAREDISEASE")]
    assert [s.text for s in doc.spans["a"]] == ["Fabry disease", "fever"]
    assert [s.id_ for s in doc.spans["raredis_votes"]] == ["2"]
    nlp.get_pipe("raredis_span_vote").min_votes = 1
    doc = nlp("Fabry disease with fever and pain.")
    assert [e.text for e in doc.ents] == ["Fabry disease", "fever", "pain"]


def test_component_errors():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="min_votes = 3"):
        nlp.add_pipe("raredis_span_vote", config={"keys": ["a", "b"], "min_votes": 3})
    nlp.add_pipe("raredis_span_vote", config={"keys": ["a"], "min_votes": 1})
    with pytest.raises(ValueError, match="raredis_collect_ents"):
        nlp("no groups on this doc")
    doc = collect_ents(spacy.blank("en")("x"), "a")
    assert list(doc.spans["a"]) == [] and doc.ents == ()
