import pytest

from raredis_llm.scoring.counts import summary
from raredis_llm.scoring.doc_level import doc_counts, mentions, normalize


def test_mentions_are_lowercased_trimmed_and_unique():
    assert normalize("  Fabry\n Disease ") == "fabry disease"
    assert mentions([("Fabry disease", "RAREDISEASE"), ("FABRY  disease", "RAREDISEASE"), ("pain", "SYMPTOM"),
                     (" ", "SIGN")]) == {"RAREDISEASE": ["fabry disease"], "SYMPTOM": ["pain"]}


def test_document_sets_ignore_repeats():
    # one document, two sentences; gold names Fabry disease in both, the system finds it once
    doc_ids = ["d1", "d1"]
    gold = [{"RAREDISEASE": ["fabry disease"]}, {"RAREDISEASE": ["fabry disease"], "SIGN": ["angiokeratoma"]}]
    pred = [{"RAREDISEASE": ["fabry disease"]}, {"SIGN": ["angiokeratoma", "rash"]}]
    types = ["RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]
    docs, counts = doc_counts(doc_ids, gold, pred, types)
    assert docs == ["d1"] and counts.shape == (1, 5, 3)
    assert counts[0, 0].tolist() == [1, 0, 0]  # the repeat is not a miss at document level
    assert counts[0, 3].tolist() == [1, 1, 0]
    s = summary(counts.sum(axis=0), types)
    assert s["per_type"]["RAREDISEASE"]["f"] == 1.0 and s["micro"]["r"] == 1.0
    assert s["micro"]["p"] == pytest.approx(2 / 3)


def test_documents_are_kept_apart_and_views_merge_skin():
    doc_ids = ["d1", "d2", None]
    gold = [{"SKINRAREDISEASE": ["epidermolysis bullosa"]}, {"DISEASE": ["diabetes"]}, {"SIGN": ["fever"]}]
    pred = [{"RAREDISEASE": ["epidermolysis bullosa"]}, {"DISEASE": ["fever"]}, {"SIGN": ["fever"]}]
    types5 = ["RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]
    docs, five = doc_counts(doc_ids, gold, pred, types5, "5type")
    assert docs == ["d1", "d2", "#2"]
    assert five[0, 0].tolist() == [0, 1, 0] and five[0, 1].tolist() == [0, 0, 1]
    types4 = ["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]
    _, four = doc_counts(doc_ids, gold, pred, types4, "4type")
    assert four[0, 0].tolist() == [1, 0, 0]
    # "fever" in d2 does not match the "fever" of another document
    assert four[1, 1].tolist() == [0, 1, 1] and four[2, 2].tolist() == [1, 0, 0]
    with pytest.raises(ValueError, match="SKINRAREDISEASE"):
        doc_counts(doc_ids, gold, pred, types4, "5type")
