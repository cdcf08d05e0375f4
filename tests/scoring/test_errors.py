from hypothesis import given, settings
from hypothesis import strategies as st

from raredis_llm.scoring.errors import CLASSES, ErrorTally, classify
from raredis_llm.scoring.spans import Ent

TEXT = "Patients with Fabry disease have severe pain in the legs and a skin rash."
FABRY = Ent(14, 27, "RAREDISEASE")
PAIN = Ent(33, 56, "SIGN")  # "severe pain in the legs"


def classes(preds, golds):
    return [r["class"] for r in classify(preds, golds)]


def test_exact():
    assert classes([FABRY], [FABRY]) == ["exact"]


def test_boundary_error():
    recs = classify([Ent(40, 44, "SIGN")], [PAIN])  # "pain"
    assert [r["class"] for r in recs] == ["boundary"]
    assert recs[0]["gold"] == PAIN and recs[0]["pred"] == Ent(40, 44, "SIGN")


def test_type_error():
    assert classes([Ent(33, 56, "SYMPTOM")], [PAIN]) == ["type"]


def test_boundary_and_type_error():
    assert classes([Ent(40, 44, "SYMPTOM")], [PAIN]) == ["boundary_type"]


def test_false_negative_and_false_positive():
    assert classes([], [PAIN]) == ["false_negative"]
    assert classes([Ent(63, 72, "SIGN")], []) == ["false_positive"]
    # a prediction elsewhere does not rescue the gold entity
    assert sorted(classes([Ent(63, 72, "SIGN")], [PAIN])) == ["false_negative", "false_positive"]


def test_exact_wins_over_overlap():
    # an exact pair is never broken up by a larger overlap elsewhere
    preds = [Ent(33, 56, "SIGN"), Ent(33, 44, "SIGN")]
    recs = classify(preds, [PAIN])
    assert sorted(r["class"] for r in recs) == ["boundary", "exact"]
    shared = [r for r in recs if r["class"] == "boundary"][0]
    assert shared["shared"] == "gold"


def test_two_preds_one_gold_each_classified_once():
    preds = [Ent(33, 44, "SIGN"), Ent(52, 56, "SYMPTOM")]  # "severe pain", "legs"
    recs = classify(preds, [PAIN])
    assert [r["class"] for r in recs] == ["boundary", "boundary_type"]
    assert recs[0]["shared"] is None and recs[1]["shared"] == "gold"


def test_one_pred_two_golds():
    golds = [Ent(33, 44, "SIGN"), Ent(52, 56, "SIGN")]
    recs = classify([PAIN], golds)
    assert [r["class"] for r in recs] == ["boundary", "boundary"]
    assert [r["shared"] for r in recs] == [None, "pred"]


def test_greedy_prefers_largest_overlap():
    golds = [Ent(33, 44, "SIGN"), Ent(45, 56, "SIGN")]
    pred = Ent(40, 56, "SIGN")  # 4 chars with the first, 11 with the second
    recs = classify([pred], golds)
    primary = [r for r in recs if r["shared"] is None][0]
    assert primary["gold"] == golds[1]


spans = st.builds(
    lambda s, n, l: Ent(s, s + n, l),
    st.integers(0, 40), st.integers(1, 8), st.sampled_from(["A", "B"]),
)


def non_overlapping(ents):
    out = []
    for e in sorted(set(ents)):
        if not out or out[-1].end <= e.start:
            out.append(e)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(spans, max_size=8), st.lists(spans, max_size=8))
def test_each_pred_and_gold_classified_exactly_once(raw_preds, raw_golds):
    preds, golds = non_overlapping(raw_preds), non_overlapping(raw_golds)
    recs = classify(preds, golds)
    pred_side = [r["pred"] for r in recs if r["pred"] is not None and r["shared"] != "pred"]
    gold_side = [r["gold"] for r in recs if r["gold"] is not None and r["shared"] != "gold"]
    assert sorted(pred_side) == sorted(preds)
    assert sorted(gold_side) == sorted(golds)
    for r in recs:
        p, g = r["pred"], r["gold"]
        if r["class"] == "exact":
            assert p == g
        elif r["class"] == "type":
            assert (p.start, p.end) == (g.start, g.end) and p.label != g.label
        elif r["class"] in ("boundary", "boundary_type"):
            assert p.overlaps(g) and (p.start, p.end) != (g.start, g.end)
            assert (p.label == g.label) == (r["class"] == "boundary")
        elif r["class"] == "false_positive":
            assert not any(p.overlaps(x) for x in golds)
        else:
            assert not any(g.overlaps(x) for x in preds)


def test_tally_counts_and_samples_with_context():
    tally = ErrorTally(max_samples=2, seed=1)
    for i in range(5):
        tally.add(classify([Ent(40, 44, "SIGN")], [PAIN]), TEXT, i, f"doc #{i}")
    out = tally.to_dict()
    assert out["counts"]["boundary"] == {"total": 5, "per_type": {"SIGN": 5}}
    assert set(out["counts"]) == set(CLASSES)
    samples = out["samples"]["boundary"]
    assert len(samples) == 2
    assert samples[0]["context"] == ("Patients with Fabry disease have [severe {pain}/P:SIGN in the legs]/G:SIGN "
                                     "and a skin rash.")
    assert samples[0]["gold"]["text"] == "severe pain in the legs"
