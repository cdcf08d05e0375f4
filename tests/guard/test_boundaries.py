"""raredis_boundaries: markup split off words; line breaks, markup and bullets become
sentence starts, which a real trained ner never crosses."""

import pytest
import spacy
from spacy.training import Example
from tests.guard.tiny_ner import train_ner

from raredis_llm.guard.boundaries import barrier_tokens, split_glued_markup


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
    split_glued_markup(doc)
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
