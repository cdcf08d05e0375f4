"""The ensemble study: voting over every subset of members, computed offline, equals
the span vote of a real ensemble; rows are ranked by validation F1."""

import pytest
import spacy

from raredis_llm.ensemble import build_ensemble
from raredis_llm.ensemble.study import member_spans, study_table, vote_rows
from raredis_llm.scoring.evaluate import load_gold_docs

TEXTS = [("Fabry disease causes pain.", [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")]),
         ("Fever is common.", [(0, 5, "SIGN")])]


@pytest.fixture()
def gold():
    nlp = spacy.blank("en")
    docs = []
    for text, ents in TEXTS:
        doc = nlp(text)
        doc.ents = [doc.char_span(s, e, label=l) for s, e, l in ents]
        docs.append(doc)
    return docs


def test_votes_rank_subsets_and_members_alone(gold):
    right = [[(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")], [(0, 5, "SIGN")]]
    spans = {"a": right,
             "b": [[(0, 13, "RAREDISEASE"), (21, 25, "SIGN")], [(0, 5, "SIGN"), (9, 15, "SIGN")]],
             "c": [[(0, 5, "DISEASE")], []]}
    rows = vote_rows(spans, {"a": 100.0, "b": 100.0, "c": 300.0}, gold)
    assert rows[0]["members"] == ["a"] and rows[0]["f_5type"] == 1.0
    by = {(tuple(r["members"]), r["min_votes"]): r for r in rows}
    # a and b agree on two of three gold spans; b's false positive and a's SYMPTOM need one vote
    assert by[(("a", "b"), 2)]["f_5type"] == pytest.approx(0.8)  # 2 found of 3, no false positive
    assert by[(("a", "b"), 1)]["f_5type"] == pytest.approx(2 * 1.0 * (3 / 4) / (1 + 3 / 4))  # 3 of 3, 1 wrong of 4
    assert by[(("a", "b", "c"), 3)]["f_5type"] == 0.0
    assert by[(("a", "c"), 1)]["words_per_s"] == pytest.approx(75.0)
    assert [r["f_5type"] for r in rows] == sorted((r["f_5type"] for r in rows), reverse=True)
    only = vote_rows(spans, {"a": 1.0, "b": 1.0, "c": 1.0}, gold, must="c")
    assert all("c" in r["members"] or len(r["members"]) == 1 for r in only)
    table = study_table(rows, top=2)
    assert table.count("\n") == 2 + 2 + 2  # header, the best two, then the members not among them (b, c)


@pytest.mark.slow
def test_offline_votes_equal_the_ensemble(tiny_cnn, tiny_trf, tiny_corpus):
    gold = load_gold_docs(tiny_corpus / "test.spacy")[:40]
    spans, speed = member_spans([("cnn", tiny_cnn), ("trf", tiny_trf)], gold, log=lambda *_: None)
    assert set(speed) == {"cnn", "trf"} and all(v > 0 for v in speed.values())
    rows = {r["min_votes"]: r for r in vote_rows(spans, speed, gold) if len(r["members"]) == 2}
    from raredis_llm.scoring.evaluate import evaluate

    for votes in (1, 2):
        ens = build_ensemble([("cnn", tiny_cnn), ("trf", tiny_trf)], min_votes=votes)
        real = evaluate(ens, gold, system="ens", input_mode="text_meta", views=("5type", "4type"))
        assert real["views"]["5type"]["seqeval"]["micro"]["f"] == pytest.approx(rows[votes]["f_5type"])
