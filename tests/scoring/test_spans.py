import spacy
from spacy.tokens import Doc, Span

from raredis_llm.scoring.spans import Ent, doc_ents, iob2_tags, project, view_doc, window


def test_project_aligned_misaligned_and_overlapping(gold_docs):
    gold = gold_docs[0]  # "Fabry disease is a rare inherited disorder of lipid metabolism."
    proj = project([Ent(0, 13, "RAREDISEASE"), Ent(2, 9, "SIGN"), Ent(46, 51, "SIGN")], gold)
    assert proj.n_pred == 3
    assert proj.misaligned == 1  # "bry dise" -> expands to "Fabry disease", overlaps the first
    assert proj.dropped_overlap == 1
    assert [(s.text, s.label_) for s in proj.spans] == [("Fabry disease", "RAREDISEASE"), ("lipid", "SIGN")]


def test_project_from_other_tokenization():
    vocab = spacy.blank("en").vocab
    # gold split finer (as the converter splits at annotation boundaries)
    gold = Doc(vocab, words=["IgA", "-", "nephropathy", "and", "fever"], spaces=[False, False, True, True, False])
    pred = Doc(vocab, words=["IgA-nephropathy", "and", "fe", "ver"], spaces=[True, True, False, False])
    assert pred.text == gold.text
    pred.set_ents([Span(pred, 0, 1, "DISEASE"), Span(pred, 3, 4, "SIGN")])  # "IgA-nephropathy", "ver"
    proj = project(doc_ents(pred), gold)
    assert proj.misaligned == 1
    assert [(s.text, s.label_) for s in proj.spans] == [("IgA-nephropathy", "DISEASE"), ("fever", "SIGN")]


def test_iob2_tags_and_views(gold_docs):
    doc = gold_docs[3]
    assert iob2_tags(doc, doc.ents)[:4] == ["B-SKINRAREDISEASE", "I-SKINRAREDISEASE", "I-SKINRAREDISEASE", "O"]
    assert iob2_tags(doc, doc.ents, "4type")[:3] == ["B-RAREDISEASE", "I-RAREDISEASE", "I-RAREDISEASE"]
    v = view_doc(doc, "4type")
    assert [e.label_ for e in v.ents] == ["RAREDISEASE", "DISEASE", "DISEASE", "DISEASE"]
    assert [e.label_ for e in doc.ents][0] == "SKINRAREDISEASE"  # original untouched


def test_view_doc_marks_unannotated_tokens_outside():
    doc = spacy.blank("en").make_doc("No entity here.")
    assert not doc.has_annotation("ENT_IOB")
    assert view_doc(doc).has_annotation("ENT_IOB")


def test_window_truncates_long_text():
    text = "x" * 100 + "pain" + "y" * 100
    out = window(text, [(100, 104, "[", "]")], width=10)
    assert out == "..." + "x" * 10 + "[pain]" + "y" * 10 + "..."
