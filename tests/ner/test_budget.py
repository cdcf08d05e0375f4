"""The one generation-budget rule (ner/budget.py) and the prompts that carry their sentence."""

import math
import pickle

import pytest
import spacy

from raredis_llm.models.engine import Constraint
from raredis_llm.models.openai_engine import estimate_tokens
from raredis_llm.ner.budget import ANSWER_EXTRA, ANSWER_RATIO, Prompt, answer_budget, rule
from raredis_llm.ner.formats import get_format

SHORT = "Fever."
LONG = ("Marfan syndrome is a rare disorder of connective tissue that affects the heart, the eyes, "
        "the blood vessels and the skeleton, and patients are often tall with long fingers.")


def words(text: str) -> int:
    return len(text.split())


def test_prompt_is_a_str_that_keeps_its_reference_and_constraint():
    constraint = Constraint(("Fever.",), ("<SIGN>", "</SIGN>"))
    prompt = Prompt("Text: Fever.\nAnswer:", answer_reference="Fever.", constraint=constraint)
    assert prompt == "Text: Fever.\nAnswer:" and isinstance(prompt, str)
    again = pickle.loads(pickle.dumps(prompt))
    assert again == prompt and again.answer_reference == "Fever." and again.constraint == constraint


def test_budget_formula_and_cap():
    n = words(LONG)
    assert answer_budget(n) == math.ceil(ANSWER_RATIO * n) + ANSWER_EXTRA
    assert answer_budget(n, cap=20) == 20
    assert answer_budget(n, ratio=1.0, extra=0) == n
    assert answer_budget(words(SHORT)) < answer_budget(n)
    assert answer_budget(0, extra=0) == 1
    assert rule() == f"{ANSWER_RATIO}x+{ANSWER_EXTRA}" != rule(ratio=3.0)
    assert estimate_tokens("abcdef") == 2 and estimate_tokens("é") == 1


@pytest.mark.parametrize("name", ["inline", "json", "bio", "lines"])
def test_reference_bounds_a_dense_gold_answer(name):
    """A gold answer tagging one word in three still fits in the budget of its reference."""
    fmt = get_format(name)
    text = LONG
    spans, pos = [], 0
    for i, word in enumerate(text.split()):
        start = text.index(word, pos)
        pos = start + len(word)
        if i % 3 == 0:
            spans.append((start, pos, "SIGN"))
    gold = fmt.render(text, spans)
    budget = answer_budget(estimate_tokens(fmt.answer_reference(text)))
    assert estimate_tokens(gold) <= budget, (name, estimate_tokens(gold), budget)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["inline", "json", "bio", "lines"])
def test_gold_answers_of_the_corpus_fit(name, converted_corpus):
    """With the offline model's tokenizer, the gold answers of the test split fit their
    budgets (a truncated answer loses its last entities)."""
    from spacy.tokens import DocBin
    from transformers import AutoTokenizer

    from raredis_llm.models.offline import gemma_hf_folder

    tok = AutoTokenizer.from_pretrained(str(gemma_hf_folder()))

    def count(text):
        return len(tok(text, add_special_tokens=False)["input_ids"])

    fmt = get_format(name)
    out, _ = converted_corpus
    docs = list(DocBin().from_disk(out / "test.spacy").get_docs(spacy.blank("en").vocab))
    over = [doc.text for doc in docs
            if count(fmt.render(doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents]))
            > answer_budget(count(fmt.answer_reference(doc.text)))]
    assert len(over) <= 0.005 * len(docs), over[:3]
