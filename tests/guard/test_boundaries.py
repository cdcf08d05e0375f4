"""raredis_boundaries: markup split off words; line breaks, markup and bullets become
sentence starts, which a real trained ner never crosses."""

import pytest
import spacy
from hypothesis import given, settings, strategies as st
from spacy.tokens import Doc
from spacy.training import Example
from tests.guard.tiny_ner import train_ner

from raredis_llm.guard.boundaries import barrier_tokens, markup_char_spans, split_glued_markup


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_boundaries")
    return nlp


def starts(doc):
    return [t.text for t in doc if t.is_sent_start]


def test_bullet_list_lines_are_sentence_starts(nlp):
    doc = nlp("Findings:\n- ataxia\n- seizures\n- hypotonia\n\nDx: Rett syndrome.")
    assert starts(doc) == ["Findings", "\n", "-", "ataxia", "\n", "-", "seizures", "\n", "-", "hypotonia", "\n\n", "Dx"]
    assert [t.is_sent_start for t in doc if t.text in ("Rett", "syndrome", ":")] == [None, None, None, None]


def test_markup_is_split_off_and_marked(nlp):
    doc = nlp("<p>Pompe disease</p><br/><b>muscle weakness</b>")
    assert doc.text == "<p>Pompe disease</p><br/><b>muscle weakness</b>"
    words = [t.text for t in doc]
    assert "disease" in words and "</p>" in words and "<br/>" in words
    marked = set(starts(doc))
    assert {"Pompe", "muscle", "</p>", "<br/>"} <= marked
    assert "disease" not in marked and "weakness" not in marked


def test_tag_with_attributes_across_tokens():
    nlp = spacy.blank("en")
    doc = nlp('x <td class="a b">Fabry disease</td>')
    doc = split_glued_markup(doc)
    inside = {doc[i].text for i in barrier_tokens(doc)}
    assert "Fabry" not in inside and "disease" not in inside
    assert 'class="a' in inside or "<td" in inside


def test_numbered_items_and_plain_prose(nlp):
    doc = nlp("1. fever\n2) cough")
    assert {"1", ".", "fever", "2", ")", "cough"} <= set(starts(doc))
    prose = nlp("Fabry disease - a lysosomal disorder - causes pain.")
    assert starts(prose) == ["Fabry"]  # the first token always starts; a dash inside a line is no bullet


def test_a_sentencizer_after_it_keeps_its_marks(nlp):
    nlp.add_pipe("sentencizer")
    doc = nlp("Fever and cough\nno rash. Patient is well.")
    assert [s.text for s in doc.sents] == ["Fever and cough", "\n", "no rash.", "Patient is well."]


def _crossing_ner():
    """A real ner trained to tag entities that run across a line break."""
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    examples = []
    for a, b in [("ataxia", "seizures"), ("fever", "rash"), ("pain", "cough"), ("ataxia", "cough")]:
        text = f"Findings: {a}\n{b} today"
        doc = nlp.make_doc(text)
        ent = doc.char_span(text.index(a), text.index(b) + len(b), label="SIGN")
        examples.append(Example.from_dict(doc, {"entities": [(ent.start_char, ent.end_char, "SIGN")]}))
    return train_ner(nlp, examples, 40)


def test_a_trained_ner_cannot_cross_the_marks():
    nlp = _crossing_ner()
    text = "Findings: fever\nseizures today"
    crossing = [e.text for e in nlp(text).ents if "\n" in e.text]
    assert crossing, "the model was meant to learn crossing entities"
    nlp.add_pipe("raredis_boundaries", first=True)
    assert all("\n" not in e.text for e in nlp(text).ents)

BLANK = spacy.blank("en")
PIECES = ["Fabry", " ", "disease", "<b>", "</b>", '<td class="a b">', "<br/>", "&nbsp;", "&#x3b2;", "\n",
          "- ", "x<p>y", "pain</p>", "<!-- note -->", "a&amp;b", "<", ">", "&", "don't", "n't<b>"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_the_fast_markup_search_is_the_definition(text):
    """split_glued_markup and barrier_tokens search sorted offsets (linear in the document);
    the result is the plain definition: every token overlapping a tag is a barrier, and no
    token straddles a tag's or character reference's edge after the split."""
    nlp = BLANK
    doc = split_glued_markup(nlp(text))
    assert doc.text == text
    tags = markup_char_spans(text)
    barriers = barrier_tokens(doc)
    for token in doc:
        start, end = token.idx, token.idx + len(token.text)
        if any(a < end and start < b for a, b in tags):
            assert token.i in barriers
        for a, b in tags:
            assert not (start < a < end or start < b < end), (token.text, text)
    overlapping = {t.i for t in doc if any(a < t.idx + len(t.text) and t.idx < b for a, b in tags)}
    assert overlapping <= barriers


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_a_new_doc_and_the_retokenizer_split_alike(text):
    """A Doc holding only tokens gets a new Doc (linear); one carrying annotations is
    retokenized in place (which keeps them): the same tokens either way."""
    nlp = BLANK
    fresh = split_glued_markup(nlp(text))
    annotated = nlp(text)
    annotated.spans["kept"] = [annotated[0:1]] if len(annotated) else []
    annotated[0:0].doc.user_data["x"] = 1
    same = split_glued_markup(annotated)
    assert same is annotated and "kept" in same.spans
    assert [(t.text, t.whitespace_, t.norm_) for t in fresh] == [(t.text, t.whitespace_, t.norm_) for t in same]
    assert fresh.text == same.text == text


def test_a_parsed_doc_is_refused_as_spacy_refuses_it():
    """Sentence starts are written in one array write; a Doc that already has a parse is
    refused with spaCy's own error, as ``token.is_sent_start = True`` refuses it."""
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_boundaries")
    words = ["pain", "\n", "fever"]
    parsed = Doc(nlp.vocab, words=words, spaces=[False] * 3, heads=[0, 0, 0], deps=["ROOT", "dep", "dep"])
    with pytest.raises(ValueError, match="E043"):
        nlp.get_pipe("raredis_boundaries")(parsed)
    doc = nlp("pain\nfever and more\nrash")
    assert [t.is_sent_start for t in doc] == [True, True, True, None, None, True, True]
