"""Budgets and constraints per sentence, end to end through the task and the
OpenAI-compatible backend (a real local HTTP server)."""

import math

import spacy

from raredis_llm.llm.cache import make_key
from raredis_llm.models.openai_engine import estimate_tokens
from raredis_llm.ner.budget import ANSWER_EXTRA, ANSWER_RATIO, Prompt, rule
from raredis_llm.ner.formats import get_format
from tests.llm.servers import make_llm_nlp

SHORT = "Fever."
LONG = ("Marfan syndrome is a rare disorder of connective tissue that affects the heart, the eyes, "
        "the blood vessels and the skeleton, and patients are often tall with long fingers.")


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
    assert prompt.constraint.texts == (SHORT,)
    assert set(prompt.constraint.glue) == set(get_format("bio").constraint_strings(["DISEASE"]))


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
    assert make_key("m", "p", settings) != make_key("m", "p", dict(settings, answer_budget=rule()))
