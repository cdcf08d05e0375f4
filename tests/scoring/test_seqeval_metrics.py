import random

import pytest
import spacy
from spacy.tokens import Span

from raredis_llm.labels import LABELS
from raredis_llm.scoring.evaluate import score_docs
from raredis_llm.scoring.seqeval_metrics import seqeval_scores


def test_seqeval_strict_per_type_micro_macro():
    y_true = [["B-SIGN", "I-SIGN", "O", "B-DISEASE"]]
    y_pred = [["I-SIGN", "I-SIGN", "O", "B-DISEASE"]]  # strict: an I- start is no entity
    out = seqeval_scores(y_true, y_pred)
    assert out["per_type"]["SIGN"]["f"] == 0.0
    assert out["per_type"]["DISEASE"] == {"p": 1.0, "r": 1.0, "f": 1.0, "support": 1}
    assert out["micro"]["r"] == 0.5 and out["micro"]["p"] == 1.0
    assert out["macro"]["f"] == pytest.approx(0.5)


def test_seqeval_no_entities_is_zero_not_nan():
    out = seqeval_scores([["O", "O"]], [["O", "O"]])
    assert out["micro"]["f"] == 0.0 and out["macro"]["f"] == 0.0 and out["per_type"] == {}


def random_ents(doc, rng, p=0.3):
    spans, i = [], 0
    while i < len(doc):
        if rng.random() < p:
            n = rng.randint(1, 3)
            spans.append(Span(doc, i, min(len(doc), i + n), label=rng.choice(LABELS)))
            i += n + rng.randint(0, 1)
        else:
            i += 1
    return spans


@pytest.mark.parametrize("seed", range(5))
def test_seqeval_micro_equals_spacy_scorer_on_token_aligned_ents(seed, gold_docs):
    rng = random.Random(seed)
    nlp = spacy.blank("en")
    golds, preds = [], []
    for g in gold_docs:
        gold = nlp.make_doc(g.text)
        gold.set_ents(random_ents(gold, rng), default="outside")
        pred = nlp.make_doc(g.text)
        # keep some gold entities, add random ones
        kept = [Span(pred, e.start, e.end, e.label_) for e in gold.ents if rng.random() < 0.6]
        extra = [s for s in random_ents(pred, rng, 0.15)
                 if all(s.end <= k.start or k.end <= s.start for k in kept)]
        pred.set_ents(sorted(kept + extra, key=lambda s: s.start))
        golds.append(gold)
        preds.append(pred)
    scores, _ = score_docs(preds, golds)
    for view, res in scores["views"].items():
        s, sp = res["seqeval"], res["spacy"]
        assert s["micro"]["f"] == pytest.approx(sp["ents_f"]), view
        assert s["micro"]["p"] == pytest.approx(sp["ents_p"]), view
        assert s["micro"]["r"] == pytest.approx(sp["ents_r"]), view
        for label, prf in sp["ents_per_type"].items():
            assert s["per_type"][label]["f"] == pytest.approx(prf["f"]), (view, label)
        # the error breakdown's exact matches are seqeval's true positives
        n_pred = sum(len(p.ents) for p in preds)
        assert res["errors"]["counts"]["exact"]["total"] == round(s["micro"]["p"] * n_pred)


def test_four_type_view_merges_skin_into_rare(gold_docs):
    nlp = spacy.blank("en")
    preds = []
    for g in gold_docs:
        p = nlp.make_doc(g.text)
        # predict every SKINRAREDISEASE as RAREDISEASE, everything else right
        p.set_ents([Span(p, e.start, e.end, "RAREDISEASE" if e.label_ == "SKINRAREDISEASE" else e.label_)
                    for e in g.ents])
        preds.append(p)
    scores, _ = score_docs(preds, gold_docs)
    five, four = scores["views"]["5type"], scores["views"]["4type"]
    assert five["seqeval"]["per_type"]["SKINRAREDISEASE"]["r"] == 0.0
    assert five["errors"]["counts"]["type"]["per_type"] == {"SKINRAREDISEASE": 1}
    assert five["seqeval"]["micro"]["f"] < 1.0
    assert "SKINRAREDISEASE" not in four["seqeval"]["per_type"]
    assert four["seqeval"]["per_type"]["RAREDISEASE"]["support"] == 2
    assert four["seqeval"]["micro"]["f"] == 1.0 and four["spacy"]["ents_f"] == 1.0
    assert four["errors"]["counts"]["type"]["total"] == 0


def test_strict_and_default_modes_differ_on_ill_formed_tags():
    y_true = [["B-SIGN", "I-SIGN", "O", "B-DISEASE", "I-DISEASE"]]
    y_pred = [["I-SIGN", "I-SIGN", "O", "B-DISEASE", "I-SYMPTOM"]]
    strict, default = seqeval_scores(y_true, y_pred, "strict"), seqeval_scores(y_true, y_pred, "default")
    # strict: an I- start is no entity, B-DISEASE I-SYMPTOM is a broken chunk
    assert strict["micro"]["p"] == 0.0 and strict["micro"]["r"] == 0.0
    # default (conlleval): I-SIGN I-SIGN is SIGN [0, 2); B-DISEASE alone is DISEASE [3, 4)
    assert default["per_type"]["SIGN"] == {"p": 1.0, "r": 1.0, "f": 1.0, "support": 1}
    assert default["per_type"]["DISEASE"]["f"] == 0.0 and "SYMPTOM" in default["per_type"]
    assert default["micro"]["p"] == pytest.approx(1 / 3) and default["micro"]["r"] == 0.5


def random_tags(rng, n, labels=("A", "B", "C")):
    return [rng.choice(["O", "O", "O"] + [f"{p}-{l}" for p in "BI" for l in labels]) for _ in range(n)]


@pytest.mark.parametrize("mode", ["strict", "default"])
@pytest.mark.parametrize("seed", range(6))
def test_counts_equal_seqeval_classification_report(mode, seed):
    """Our per-sentence counts give seqeval's own numbers, also on ill-formed sequences."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    rng = random.Random(seed)
    lengths = [rng.randint(1, 12) for _ in range(25)]
    y_true = [random_tags(rng, n) for n in lengths]
    y_pred = [random_tags(rng, n) for n in lengths]
    kwargs = {"mode": "strict", "scheme": IOB2} if mode == "strict" else {}
    ref = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kwargs)
    ours = seqeval_scores(y_true, y_pred, mode)
    for key, name in (("micro", "micro avg"), ("macro", "macro avg")):
        for m, r in (("p", "precision"), ("r", "recall"), ("f", "f1-score")):
            assert ours[key][m] == pytest.approx(float(ref[name][r])), (key, m)
    assert set(ours["per_type"]) == {k for k in ref if not k.endswith(" avg")}
    for label, prf in ours["per_type"].items():
        assert prf["f"] == pytest.approx(float(ref[label]["f1-score"])), label
        assert prf["support"] == int(ref[label]["support"]), label


def test_sentence_counts_shape_and_unknown_type():
    from raredis_llm.scoring.seqeval_metrics import sentence_counts

    y = [["B-SIGN", "O"], ["O", "B-DISEASE"]]
    counts = sentence_counts(y, [["B-SIGN", "O"], ["B-SIGN", "O"]], ["SIGN", "DISEASE"])
    assert counts.tolist() == [[[1, 0, 0], [0, 0, 0]], [[0, 1, 0], [0, 0, 1]]]
    with pytest.raises(ValueError, match="SYMPTOM"):
        sentence_counts(y, [["B-SYMPTOM", "O"], ["O", "O"]], ["SIGN", "DISEASE"])
