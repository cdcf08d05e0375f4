"""raredis.Tokenizer.v1: markup tags are tokens; everything else as spaCy's tokenizer; it
is saved and reloaded with the pipeline."""

import spacy
from hypothesis import given, settings, strategies as st

from raredis_llm.guard.tokenizer import markup_tokenizer

CONFIG = {"nlp": {"tokenizer": {"@tokenizers": "raredis.Tokenizer.v1"}}}


def test_tags_and_character_references_are_tokens():
    nlp = spacy.blank("en", config=CONFIG)
    words = [t.text for t in nlp("<p>Pompe disease</p><br/><b>muscle weakness</b> fever&nbsp;cough")]
    assert words == ["<p>", "Pompe", "disease", "</p>", "<br/>", "<b>", "muscle", "weakness", "</b>",
                     "fever", "&nbsp;", "cough"]


NLP = spacy.blank("en")
MARKUP = markup_tokenizer(NLP)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<&")))
def test_same_tokens_as_spacy_without_markup(text):
    assert [t.text for t in MARKUP(text)] == [t.text for t in NLP.tokenizer(text)]


def test_saved_and_reloaded(tmp_path):
    nlp = spacy.blank("en", config=CONFIG)
    nlp.to_disk(tmp_path / "p")
    again = spacy.load(tmp_path / "p")
    assert [t.text for t in again("a<br/>b")] == ["a", "<br/>", "b"]
