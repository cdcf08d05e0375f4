"""Generation budgets sized to the sentence (llm/budget.py), end to end through the task
and the OpenAI-compatible backend (a real local HTTP server)."""

import math
import pickle

import pytest
import spacy
from servers import make_llm_nlp

from raredis_llm.llm.budget import ANSWER_EXTRA, ANSWER_RATIO, RULE, Prompt, answer_budget, estimate_tokens
from raredis_llm.llm.cache import make_key
from raredis_llm.llm.formats import get_format

SHORT = "Fever."
LONG = ("Marfan syndrome is a rare disorder of connective tissue that affects the heart, the eyes, "
        "the blood vessels and the skeleton, and patients are often tall with long fingers.")


def words(text: str) -> int:
    return len(text.split())


def test_prompt_is_a_str_that_keeps_its_reference():
    prompt = Prompt("Text: Fever.\nAnswer:", answer_reference="Fever.")
    assert prompt == "Text: Fever.\nAnswer:" and isinstance(prompt, str)
    again = pickle.loads(pickle.dumps(prompt))
    assert again == prompt and again.answer_reference == "Fever."


def test_budget_formula_and_cap():
    prompt = Prompt("...", answer_reference=LONG)
    n = words(LONG)
    assert answer_budget(prompt, words) == math.ceil(ANSWER_RATIO * n) + ANSWER_EXTRA
    assert answer_budget(prompt, words, cap=20) == 20
    assert answer_budget("a plain string prompt", words) is None
    assert answer_budget(Prompt("...", answer_reference=SHORT), words) < answer_budget(prompt, words)
    assert estimate_tokens("abcdef") == 2 and estimate_tokens("é") == 1


@pytest.mark.parametrize("name", ["inline", "json", "bio"])
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
    budget = answer_budget(Prompt("", answer_reference=fmt.answer_reference(text)), estimate_tokens)
    assert estimate_tokens(gold) <= budget, (name, estimate_tokens(gold), budget)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["inline", "json", "bio"])
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
            > answer_budget(Prompt("", answer_reference=fmt.answer_reference(doc.text)), count)]
    assert len(over) <= 0.005 * len(docs), over[:3]


def test_task_prompts_carry_the_sentence(tiny_template):
    nlp = spacy.blank("en")
    nlp.add_pipe("llm", config={
        "task": {"@llm_tasks": "raredis.NER.v1", "labels": ["DISEASE"], "output_format": "bio",
                 "template": str(tiny_template)},
        "model": {"@llm_models": "spacy.NoOp.v1"},
    })
    task = nlp.get_pipe("llm").task
    [(prompts, _)] = list(task.generate_prompts([nlp.make_doc(SHORT)]))
    [prompt] = list(prompts)
    assert isinstance(prompt, Prompt) and prompt.answer_reference == get_format("bio").answer_reference(SHORT)


def backend_cfg(url, **kwargs):
    cfg = {"@llm_models": "raredis.OpenAIChat.v1", "name": "test-model", "base_url": url,
           "endpoint": "completions", "max_tokens": 256, "timeout": 5.0}
    cfg.update(kwargs)
    return cfg


def test_openai_requests_are_sized_per_sentence(faulty_server, tiny_template):
    faulty_server.answer = lambda prompt: ""
    nlp = make_llm_nlp(backend_cfg(faulty_server.url), tiny_template)
    list(nlp.pipe([SHORT, LONG]))
    sent = {r.body["prompt"].rsplit("Text: ", 1)[1].split("\n")[0]: r.body["max_tokens"]
            for r in faulty_server.completion_requests()}
    assert sent == {text: math.ceil(ANSWER_RATIO * estimate_tokens(text)) + ANSWER_EXTRA for text in (SHORT, LONG)}
    assert sent[SHORT] < sent[LONG] < 256

    # capped by max_tokens; switched off -> always max_tokens
    faulty_server.reset_counts()
    list(make_llm_nlp(backend_cfg(faulty_server.url, max_tokens=40), tiny_template).pipe([LONG]))
    assert [r.body["max_tokens"] for r in faulty_server.completion_requests()] == [40]
    faulty_server.reset_counts()
    list(make_llm_nlp(backend_cfg(faulty_server.url, size_to_input=False), tiny_template).pipe([SHORT]))
    assert [r.body["max_tokens"] for r in faulty_server.completion_requests()] == [256]


def test_sized_and_fixed_budgets_are_different_cache_entries(faulty_server, tiny_template, tmp_path):
    """The same prompt under the sizing rule and under a fixed budget must not share an answer."""
    faulty_server.answer = lambda prompt: "x"
    cache = str(tmp_path / "cache")
    list(make_llm_nlp(backend_cfg(faulty_server.url, cache_dir=cache), tiny_template).pipe([SHORT]))
    nlp = make_llm_nlp(backend_cfg(faulty_server.url, cache_dir=cache, size_to_input=False), tiny_template)
    list(nlp.pipe([SHORT]))
    assert nlp.get_pipe("llm")._model.stats["cache_misses"] == 1
    assert len(faulty_server.completion_requests()) == 2
    settings = {"a": 1}
    assert make_key("m", "p", settings) != make_key("m", "p", dict(settings, answer_budget=RULE))
