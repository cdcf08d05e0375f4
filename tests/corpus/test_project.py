"""Projection conventions on hand-made BRAT: discontinuous entities, a span annotated
twice with different types (file order vs specificity), re-projection of stored Docs,
missing values for the training variant, and the corpus reader."""

import pytest
import spacy
from spacy.tokens import DocBin

from raredis_llm.corpus import schema
from raredis_llm.corpus.brat import BratDocument, parse_ann
from raredis_llm.corpus.docs import brat_to_docs, projected_ents, reproject
from raredis_llm.corpus.project import PROJECTIONS, get_policy, label_order, project_entities
from raredis_llm.corpus.reader import make_projected_corpus
from raredis_llm.corpus.segment import make_sentencizer

TEXT = "Fabry disease causes muscle weakness and pain. Angiokeratoma is frequent."
# DISEASE is listed before SIGN in the file, so under brat2iob's file order the SIGN
# annotation of "Angiokeratoma" (T3, same characters as T2) wins.
ANN = "\n".join([
    "T1\tRAREDISEASE 0 13\tFabry disease",
    "T2\tDISEASE 47 60\tAngiokeratoma",
    "T3\tSIGN 47 60\tAngiokeratoma",
    "T4\tSIGN 21 27;41 45\tmuscle pain",
    "T5\tSIGN 21 36\tmuscle weakness",
    "T6\tSYMPTOM 28 36;41 45\tweakness pain",
    "T7\tANAPHOR 0 5\tFabry",
]) + "\n"


def make_brat() -> BratDocument:
    entities, relations, other, issues = parse_ann(ANN, TEXT, "doc.ann")
    assert not issues
    return BratDocument("doc", TEXT, entities, relations, other)


def _ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def test_label_order_is_first_appearance_in_the_file():
    assert label_order(make_brat().entities) == ["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM", "ANAPHOR"]


def test_contiguous_drops_discontinuous_and_prefers_the_specific_type():
    pieces, reasons = project_entities(make_brat().entities, projection="contiguous")
    assert [(p.id, TEXT[p.start:p.end], p.label) for p in pieces] == [
        ("T1", "Fabry disease", "RAREDISEASE"), ("T5", "muscle weakness", "SIGN"), ("T2", "Angiokeratoma", "DISEASE")]
    assert reasons == {"T4": schema.REASON_DISCONTINUOUS, "T6": schema.REASON_DISCONTINUOUS,
                       "T3": schema.REASON_SAME_SPAN, "T7": schema.REASON_NON_TARGET}


def test_first_fragment_keeps_first_fragments_and_the_later_type():
    pieces, reasons = project_entities(make_brat().entities, projection="first_fragment")
    got = [(p.id, TEXT[p.start:p.end], p.label) for p in pieces]
    # T4's first fragment "muscle" lies inside T5; T6's first fragment "weakness" too;
    # DISEASE (T2) is listed before SIGN (T3): SIGN wins the shared span
    assert got == [("T1", "Fabry disease", "RAREDISEASE"), ("T5", "muscle weakness", "SIGN"),
                   ("T3", "Angiokeratoma", "SIGN")]
    assert reasons["T4"] == schema.REASON_NESTED and reasons["T6"] == schema.REASON_NESTED
    assert reasons["T2"] == schema.REASON_SAME_SPAN
    # the same-span rule can be changed on its own
    pieces, _ = project_entities(make_brat().entities, projection="first_fragment", same_span="specific")
    assert [p.label for p in pieces][-1] == "DISEASE"


def test_first_fragment_of_a_free_discontinuous_entity_enters_ents():
    text = "Pain in the legs and later in the arms."
    brat = BratDocument("d", text, parse_ann("T1\tSYMPTOM 0 4;27 38\tPain in the arms\n", text, "d.ann")[0], [])
    doc, _, _ = brat_to_docs(spacy.blank("en"), brat, projection="first_fragment")
    assert _ents(doc) == [("Pain", "SYMPTOM")]
    doc, _, _ = brat_to_docs(spacy.blank("en"), brat, projection="each_fragment")
    assert _ents(doc) == [("Pain", "SYMPTOM"), ("in the arms", "SYMPTOM")]
    doc, _, _ = brat_to_docs(spacy.blank("en"), brat, projection="contiguous")
    assert _ents(doc) == []
    assert len(doc.spans[schema.SPANS_KEY]) == 2  # the fragments stay in doc.spans


def test_unknown_names_fail_clearly():
    with pytest.raises(ValueError, match="Unknown projection"):
        get_policy("brat")
    with pytest.raises(ValueError, match="same_span"):
        get_policy("contiguous", same_span="longest")
    assert set(PROJECTIONS) >= {"first_fragment", "contiguous", "each_fragment", "missing_fragments"}


def test_sentence_docs_reproject_like_their_document():
    """A sentence Doc knows its document's label order: re-projecting it gives what the
    conversion with that projection gives."""
    nlp = spacy.blank("en")
    brat = make_brat()
    _, sents_ff, _ = brat_to_docs(nlp, brat, make_sentencizer(), projection="first_fragment")
    _, sents_c, _ = brat_to_docs(nlp, brat, make_sentencizer(), projection="contiguous")
    stored = list(DocBin(docs=sents_c, store_user_data=True).get_docs(nlp.vocab))
    # the second sentence alone lists DISEASE before SIGN too, but only the document's
    # order decides; here both agree, and "Angiokeratoma" is SIGN under first_fragment
    assert _ents(sents_ff[1]) == [("Angiokeratoma", "SIGN")]
    assert _ents(sents_c[1]) == [("Angiokeratoma", "DISEASE")]
    for conv_ff, conv_c, back in zip(sents_ff, sents_c, stored):
        assert _ents(reproject(back, "first_fragment")) == _ents(conv_ff)
        assert _ents(reproject(back, "contiguous")) == _ents(conv_c)
        assert back.user_data[schema.ANNOTATION]["projection_name"] == "contiguous"


def test_missing_fragments_marks_uncovered_fragments_missing():
    text = "Pain in the legs and later in the arms. Fever."
    ann = "T1\tSYMPTOM 0 4;27 38\tPain in the arms\nT2\tSIGN 40 45\tFever\n"
    brat = BratDocument("d", text, parse_ann(ann, text, "d.ann")[0], [])
    doc, _, _ = brat_to_docs(spacy.blank("en"), brat, projection="contiguous")
    ents, missing = projected_ents(doc, "missing_fragments")
    assert [(e.text, e.label_) for e in ents] == [("Fever", "SIGN")]
    assert [m.text for m in missing] == ["Pain", "in the arms"]
    out = reproject(doc, "missing_fragments")
    iob = [t.ent_iob_ for t in out]
    assert [t.text for t, i in zip(out, iob) if i == ""] == ["Pain", "in", "the", "arms"]
    assert all(i in ("O", "B", "I") for t, i in zip(out, iob) if t.text not in ("Pain", "in", "the", "arms"))


def test_reader_yields_the_chosen_projection(tmp_path):
    nlp = spacy.blank("en")
    _, sents, _ = brat_to_docs(nlp, make_brat(), make_sentencizer(), projection="contiguous")
    DocBin(docs=sents, store_user_data=True).to_disk(tmp_path / "s.spacy")
    as_converted = [_ents(eg.reference) for eg in make_projected_corpus(tmp_path / "s.spacy")(nlp)]
    projected = [_ents(eg.reference) for eg in make_projected_corpus(tmp_path / "s.spacy", "first_fragment")(nlp)]
    assert as_converted[1] == [("Angiokeratoma", "DISEASE")]
    assert projected[1] == [("Angiokeratoma", "SIGN")]
    with pytest.raises(ValueError, match="Unknown projection"):
        make_projected_corpus(tmp_path / "s.spacy", "nope")
