import spacy
from spacy.tokens import DocBin

from raredis_llm.corpus import schema
from raredis_llm.corpus.brat import BratDocument, Entity, Relation, format_ann
from raredis_llm.corpus.docs import brat_to_docs, doc_to_brat, ents_to_brat, tokenize_at
from raredis_llm.corpus.project import project_entities
from raredis_llm.corpus.segment import make_sentencizer, protect_entities

TEXT = (
    "Adrenal insufficiency (hypoadrenalism) leads to weight loss. Dr. Smith saw muscle weakness and pain in "
    "the skin.\nThe disorder is rare.  ACTH-deficiency is rare."
)


def _e(i, label, *frags):
    return Entity(f"T{i}", label, list(frags), " ".join(TEXT[s:e] for s, e in frags))


def _find(sub, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(sub, start + 1)
    return start, start + len(sub)


def make_brat():
    ai = _find("Adrenal insufficiency")
    hypo = _find("hypoadrenalism")
    wl = _find("weight loss")
    mw = _find("muscle weakness")
    muscle = _find("muscle")
    pain = _find("pain")
    dis = _find("The disorder")
    acth = _find("ACTH")
    acthd = _find("ACTH-deficiency")
    ents = [
        _e(1, "DISEASE", ai), _e(2, "DISEASE", hypo), _e(3, "SIGN", hypo), _e(4, "SIGN", wl),
        _e(5, "SYMPTOM", mw), _e(6, "SYMPTOM", muscle, pain), _e(7, "ANAPHOR", dis),
        _e(8, "RAREDISEASE", acthd), _e(9, "SKINRAREDISEASE", acth),
    ]
    rels = [Relation("R1", "Produces", "T1", "T4"), Relation("R2", "Anaphora", "T8", "T7")]
    return BratDocument("doc1", TEXT, ents, rels, ["#1\tAnnotatorNotes T1\tchecked"])


def test_projection_policy_contiguous():
    kept, reasons = project_entities(make_brat().entities, projection="contiguous")
    assert [e.id for e in kept] == ["T1", "T2", "T4", "T5", "T8"]
    assert reasons == {
        "T3": schema.REASON_SAME_SPAN,
        "T6": schema.REASON_DISCONTINUOUS,
        "T7": schema.REASON_NON_TARGET,
        "T9": schema.REASON_NESTED,
    }


def test_tokenize_splits_at_entity_boundaries():
    nlp = spacy.blank("en")
    doc = tokenize_at(nlp, "ACTH-deficiency2x", [4, 5, 15])
    assert doc.text == "ACTH-deficiency2x"
    assert doc.char_span(0, 4) is not None and doc.char_span(5, 15) is not None


def test_document_and_sentence_docs():
    nlp = spacy.blank("en")
    doc, sents, merged = brat_to_docs(nlp, make_brat(), make_sentencizer(), projection="contiguous")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Adrenal insufficiency", "DISEASE"), ("hypoadrenalism", "DISEASE"), ("weight loss", "SIGN"),
        ("muscle weakness", "SYMPTOM"), ("ACTH-deficiency", "RAREDISEASE"),
    ]
    # every entity and every fragment is in doc.spans, ANAPHOR included
    assert len(doc.spans[schema.SPANS_KEY]) == 10
    assert {s.label_ for s in doc.spans[schema.SPANS_KEY]} >= {"ANAPHOR", "SKINRAREDISEASE"}
    # sentences are exact substrings, offsets map back, "Dr." does not end a sentence
    assert [s.text for s in sents] == [
        "Adrenal insufficiency (hypoadrenalism) leads to weight loss.",
        "Dr. Smith saw muscle weakness and pain in the skin.",
        "The disorder is rare.",
        "ACTH-deficiency is rare.",
    ]
    for s in sents:
        off = s.user_data[schema.CHAR_OFFSET]
        assert TEXT[off : off + len(s.text)] == s.text
        assert s.user_data[schema.DOC_ID] == "doc1"
        for ent in s.ents:
            assert TEXT[off + ent.start_char : off + ent.end_char] == ent.text
    assert merged == []
    assert sum(len(s.ents) for s in sents) == len(doc.ents)
    assert sents[0].user_data[schema.ANNOTATION]["relations"] == [{"id": "R1", "type": "Produces", "arg1": "T1", "arg2": "T4"}]


def test_merge_skin_option():
    nlp = spacy.blank("en")
    doc, _, _ = brat_to_docs(nlp, make_brat(), merge_skin=True)
    labels = {s.label_ for s in doc.spans[schema.SPANS_KEY]}
    assert "SKINRAREDISEASE" not in labels and "RAREDISEASE" in labels
    # the lossless annotation keeps the original label
    assert {e["label"] for e in doc.user_data[schema.ANNOTATION]["entities"]} >= {"SKINRAREDISEASE"}


def test_entity_across_sentence_boundary_merges_sentences():
    text = "He had fever. Then pain. Fine."
    brat = BratDocument("x", text, [Entity("T1", "SIGN", [(7, 12), (19, 23)], "fever pain")], [])
    _, sents, merged = brat_to_docs(spacy.blank("en"), brat, make_sentencizer())
    assert [s.text for s in sents] == ["He had fever. Then pain.", "Fine."]
    assert merged == [{"doc_id": "x", "position": 13, "extent": [7, 23]}]
    assert protect_entities([(0, 5), (6, 9)], [(1, 2)]) == ([(0, 5), (6, 9)], [])


def test_round_trip_through_docbin(tmp_path):
    nlp = spacy.blank("en")
    brat = make_brat()
    doc, sents, _ = brat_to_docs(nlp, brat, make_sentencizer(), projection="contiguous")
    DocBin(docs=[doc], store_user_data=True).to_disk(tmp_path / "d.spacy")
    DocBin(docs=sents, store_user_data=True).to_disk(tmp_path / "s.spacy")
    back = list(DocBin().from_disk(tmp_path / "d.spacy").get_docs(nlp.vocab))[0]
    assert doc_to_brat(back) == brat
    assert format_ann(doc_to_brat(back)) == format_ann(brat)
    assert [(e.start_char, e.end_char, e.label_) for e in back.ents] == [(e.start_char, e.end_char, e.label_) for e in doc.ents]
    # sentence docs together hold every entity, at the right place in the .txt
    back_sents = list(DocBin().from_disk(tmp_path / "s.spacy").get_docs(nlp.vocab))
    entities = sorted((e for s in back_sents for e in doc_to_brat(s, TEXT).entities), key=lambda e: int(e.id[1:]))
    assert entities == brat.entities
    # predictions on sentences map back to document offsets
    pred = ents_to_brat(back_sents, {"doc1": TEXT})[0]
    assert [(e.fragments[0], e.label) for e in pred.entities] == [((e.start_char, e.end_char), e.label_) for e in doc.ents]
