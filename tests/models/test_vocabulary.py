"""Which tokens a constraint allows: seams between the input and the tags, coverage of the
gold answers of the whole test split with the offline Gemma tokenizer."""

import pytest
import spacy
from spacy.tokens import DocBin

from raredis_llm.labels import LABELS
from raredis_llm.models.engine import Constraint
from raredis_llm.models.vocabulary import AllowedTokens, token_surface
from raredis_llm.ner.formats import get_format


def test_surfaces():
    assert token_surface("\u2581word") == " word"
    assert token_surface("<0x0A>") == "\n"
    assert token_surface("") is None and token_surface(None) is None


def test_substrings_and_seams_of_a_toy_vocabulary():
    vocab = ["<eos>", "fev", "er", " fever", "<S>", "</S>", ">,", " <", "xyz", "er."]
    allowed = AllowedTokens(vocab, always=[0])
    ids = set(allowed.ids(Constraint(("No fever, no pain.",), ("<S>", "</S>"))))
    names = {vocab[i] for i in ids}
    # pieces of the input, the glue, the seams "text then tag" (" <") and "tag then text" (">,")
    assert {"<eos>", "fev", "er", " fever", "<S>", "</S>", ">,", " <"} <= names
    assert "xyz" not in names and "er." not in names


@pytest.fixture(scope="module")
def gemma_allowed(gemma_tokenizer):
    """The real Gemma tokenizer's vocabulary as AllowedTokens (built once for every format)."""
    return gemma_tokenizer, AllowedTokens.from_tokenizer(gemma_tokenizer, always=[gemma_tokenizer.eos_token_id])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["inline", "lines", "json", "bio"])
def test_gold_answers_of_the_test_split_are_allowed(name, converted_corpus, gemma_allowed):
    tok, allowed = gemma_allowed
    fmt = get_format(name)
    glue = tuple(fmt.constraint_strings(list(LABELS)))
    out, _ = converted_corpus
    docs = list(DocBin().from_disk(out / "test.spacy").get_docs(spacy.blank("en").vocab))
    missing, total = 0, 0
    for doc in docs:
        gold = fmt.render(doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents])
        ok = set(allowed.ids(Constraint((doc.text,), glue)))
        ids = tok(gold, add_special_tokens=False)["input_ids"]
        missing += sum(1 for i in ids if i not in ok)
        total += len(ids)
    assert missing <= 0.0005 * total, (missing, total)
