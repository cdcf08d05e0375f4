"""raredis.OpenAIChat.v1 against a real, misbehaving local HTTP server (tests/llm/servers.py).

Every fault ends either in a successful retry or in a clear LLMBackendError; the request
counts and timings asserted here are the ones the server saw.
"""

import time

import pytest
from tests.llm.servers import make_llm_nlp, text_of_prompt
from spacy_llm.registry import registry

from raredis_llm.corpus import schema
from raredis_llm.llm.backends import LLMBackendError, OpenAIChat, make_openai_chat_v1
from raredis_llm.models.llama_server import free_port
from raredis_llm.llm.cache import ResponseCache, make_key


def backend(url: str, **kwargs) -> OpenAIChat:
    settings = dict(name="test-model", base_url=url, backoff_base=0.02, backoff_max=0.1, max_retries=2, timeout=5.0)
    settings.update(kwargs)
    return make_openai_chat_v1(**settings)


def tag_answer(prompt: str) -> str:
    """What a perfect annotator would answer in the inline format for our test docs."""
    text = text_of_prompt(prompt)
    for mention, label in (("cystic fibrosis", "RAREDISEASE"), ("fever", "SIGN")):
        text = text.replace(mention, f"<{label}>{mention}</{label}>")
    return " " + text


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_success_records_usage_and_endpoint(faulty_server, endpoint):
    faulty_server.answer = lambda prompt: "hello there"
    model = backend(faulty_server.url, endpoint=endpoint)
    [[out]] = model([["say hello"]])
    assert out == "hello there" and not out.cached
    assert out.usage == {"prompt_tokens": 2, "completion_tokens": 2}
    [req] = faulty_server.completion_requests()
    assert req.path == f"/v1/{'chat/completions' if endpoint == 'chat' else 'completions'}"
    assert req.body["temperature"] == 0.0 and req.body["model"] == "test-model"
    assert model.stats["requests"] == 1 and model.stats["prompt_tokens"] == 2


def test_nested_prompts_keep_doc_and_shard_order(faulty_server):
    faulty_server.answer = lambda prompt: prompt.upper()
    model = backend(faulty_server.url, max_concurrency=3)
    prompts = [["a0", "a1"], [], ["b0"], ["c0", "c1", "c2"]]
    out = model(iter([iter(p) for p in prompts]))
    assert [[str(x) for x in doc] for doc in out] == [[p.upper() for p in doc] for doc in prompts]


def test_connection_refused_retries_then_clear_error():
    port = free_port()  # nothing listens there
    model = backend(f"http://127.0.0.1:{port}/v1", max_retries=2)
    with pytest.raises(LLMBackendError) as info:
        model([["first doc"]])
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "doc #0" in message and "first doc" in message
    assert "connection" in message.lower() and "3 attempts" in message
    assert model.stats["requests"] == 3 and model.stats["failures"] == 1


def test_outage_cancels_the_rest_of_the_batch():
    """When one prompt is out of retries, prompts not started yet are not sent."""
    port = free_port()
    model = backend(f"http://127.0.0.1:{port}/v1", max_retries=1, max_concurrency=2)
    with pytest.raises(LLMBackendError, match=r"doc #[01]\b"):
        model([[f"doc {i}"] for i in range(20)])
    assert model.stats["requests"] <= 2 * 2 + 2  # two workers, two tries each (+ in flight)


def test_500s_then_success(faulty_server):
    faulty_server.fail_next("500", times=2)
    model = backend(faulty_server.url, max_retries=3)
    [[out]] = model([["x"]])
    assert out == "ok"
    assert len(faulty_server.completion_requests()) == 3
    assert model.stats["retries"] == 2 and model.stats["requests"] == 3


def test_500s_beyond_max_retries_fail(faulty_server):
    faulty_server.fail_next("503", times=10)
    model = backend(faulty_server.url, max_retries=2)
    with pytest.raises(LLMBackendError, match=r"HTTP 503.*gave up after 3 attempts"):
        model([["x"]])
    assert len(faulty_server.completion_requests()) == 3


def test_429_retry_after_is_honoured(faulty_server):
    faulty_server.fail_next("429", retry_after=1.0)
    model = backend(faulty_server.url, backoff_base=0.01)
    [[out]] = model([["x"]])
    assert out == "ok"
    first, second = faulty_server.completion_requests()
    assert first.fault == "429" and second.fault is None
    waited = second.time - first.time
    # the backoff alone would wait ~0.01 s; only Retry-After explains a 1 s gap
    assert 1.0 <= waited < 2.5, waited


def test_slow_answer_times_out_retries_then_fails(faulty_server):
    faulty_server.fail_prompts_containing("SLOW", "slow", delay=1.5)
    model = backend(faulty_server.url, timeout=0.3, max_retries=1)
    start = time.monotonic()
    with pytest.raises(LLMBackendError) as info:
        model([["a SLOW prompt"]])
    assert "timeout=0.3s" in str(info.value) and faulty_server.url in str(info.value)
    assert len(faulty_server.completion_requests()) == 2  # first try + one retry
    assert time.monotonic() - start < 1.5  # it did not wait for the slow answers


def test_slow_once_then_success(faulty_server):
    faulty_server.fail_next("slow", delay=1.0)
    model = backend(faulty_server.url, timeout=0.3)
    [[out]] = model([["x"]])
    assert out == "ok" and model.stats["retries"] == 1


@pytest.mark.parametrize("fault", ["malformed", "no_choices"])
def test_malformed_body_is_retried(faulty_server, fault):
    faulty_server.fail_next(fault)
    model = backend(faulty_server.url)
    [[out]] = model([["x"]])
    assert out == "ok"
    assert [r.fault for r in faulty_server.completion_requests()] == [fault, None]


def test_malformed_body_every_time_is_a_clear_error(faulty_server):
    faulty_server.fail_prompts_containing("x", "malformed")
    model = backend(faulty_server.url, max_retries=1)
    with pytest.raises(LLMBackendError, match="not JSON"):
        model([["x"]])
    assert len(faulty_server.completion_requests()) == 2


def test_client_error_is_not_retried(faulty_server):
    faulty_server.fail_next("400")
    model = backend(faulty_server.url, max_retries=3)
    with pytest.raises(LLMBackendError, match="HTTP 400"):
        model([["x"]])
    assert len(faulty_server.completion_requests()) == 1


def test_empty_completion_is_an_answer(faulty_server, tiny_template, tmp_path):
    faulty_server.fail_next("empty")
    cfg = {"@llm_models": "raredis.OpenAIChat.v1", "name": "m", "base_url": faulty_server.url, "context_length": 4096,
           "max_retries": 0, "cache_dir": str(tmp_path / "cache")}
    nlp = make_llm_nlp(cfg, tiny_template)
    doc = nlp("Patients with cystic fibrosis.")
    assert doc.ents == ()
    assert doc.user_data["llm_io"]["llm"]["response"] == [""]
    model = nlp.get_pipe("llm")._model
    assert model.stats["empty_responses"] == 1 and model.stats["requests"] == 1


def test_garbage_completion_sets_no_entities(faulty_server, tiny_template):
    faulty_server.fail_next("garbage")
    cfg = {"@llm_models": "raredis.OpenAIChat.v1", "name": "m", "base_url": faulty_server.url, "context_length": 4096, "max_retries": 0}
    nlp = make_llm_nlp(cfg, tiny_template)
    doc = nlp("Patients with cystic fibrosis.")
    assert doc.ents == ()
    assert isinstance(doc.user_data[schema.PARSE_STATS], dict)


def test_pipeline_sets_parsed_entities_and_usage(faulty_server, tiny_template):
    faulty_server.answer = tag_answer
    cfg = {"@llm_models": "raredis.OpenAIChat.v1", "name": "m", "base_url": faulty_server.url, "context_length": 4096,
           "endpoint": "completions"}
    nlp = make_llm_nlp(cfg, tiny_template)
    doc = nlp("Children with cystic fibrosis had fever.")
    assert [(e.text, e.label_) for e in doc.ents] == [("cystic fibrosis", "RAREDISEASE"), ("fever", "SIGN")]
    usage = doc.user_data[schema.LLM_USAGE]
    assert usage["requests"] == 1 and usage["prompt_tokens"] > 10 and usage["completion_tokens"] > 3


def test_concurrency_is_bounded(faulty_server):
    faulty_server.fail_prompts_containing("p", "slow", delay=0.3)
    model = backend(faulty_server.url, max_concurrency=3, timeout=5.0)
    start = time.monotonic()
    out = model([[f"p{i}"] for i in range(9)])
    elapsed = time.monotonic() - start
    assert all(doc[0] == "ok" for doc in out)
    assert faulty_server.max_in_flight == 3
    assert elapsed < 9 * 0.3  # ran in parallel, not one after the other


def test_failing_doc_keeps_finished_docs_and_rerun_requests_only_missing(faulty_server, tiny_template, tmp_path):
    """A 6-doc run where doc 3 keeps failing: docs 0-2 are cached; after the server
    recovers, a rerun requests exactly the missing docs and gives every doc its entities."""
    faulty_server.answer = tag_answer
    faulty_server.fail_prompts_containing("POISON", "500")
    texts = [f"Case {i}: cystic fibrosis with fever." for i in range(6)]
    texts[3] = "Case 3: POISON cystic fibrosis."
    cache_dir = tmp_path / "cache"
    cfg = {"@llm_models": "raredis.OpenAIChat.v1", "name": "m", "base_url": faulty_server.url, "context_length": 4096,
           "endpoint": "completions", "max_retries": 2, "backoff_base": 0.01,
           "max_concurrency": 1, "cache_dir": str(cache_dir)}
    nlp = make_llm_nlp(cfg, tiny_template)
    with pytest.raises(LLMBackendError) as info:
        list(nlp.pipe(texts))
    message = str(info.value)
    assert "doc #3" in message and "POISON" in message and faulty_server.url in message
    assert "HTTP 500" in message and str(cache_dir) in message and "rerun" in message
    first_run = [r.prompt for r in faulty_server.completion_requests()]
    assert [text_of_prompt(p) for p in first_run] == texts[:3] + [texts[3]] * 3  # 1 try + 2 retries
    assert len(ResponseCache(cache_dir)) == 3

    faulty_server.recover()
    faulty_server.reset_counts()
    nlp2 = make_llm_nlp(cfg, tiny_template)
    docs = list(nlp2.pipe(texts))
    rerun = [text_of_prompt(r.prompt) for r in faulty_server.completion_requests()]
    assert rerun == texts[3:]
    assert [[e.text for e in doc.ents] for doc in docs] == [["cystic fibrosis", "fever"]] * 3 + [
        ["cystic fibrosis"]
    ] + [["cystic fibrosis", "fever"]] * 2
    assert [doc.user_data[schema.LLM_USAGE]["cache_hits"] for doc in docs] == [1, 1, 1, 0, 0, 0]
    model = nlp2.get_pipe("llm")._model
    assert model.stats["cache_hits"] == 3 and model.stats["requests"] == 3


def test_cache_key_includes_prompt_and_settings(faulty_server, tmp_path):
    model = backend(faulty_server.url, cache_dir=str(tmp_path), max_tokens=7)
    model([["abc"]])
    key = make_key(model.model_id, "abc", model.cache_settings("abc"))
    assert key in model.cache
    other = backend(faulty_server.url, cache_dir=str(tmp_path), max_tokens=8)
    other([["abc"]])  # different settings: not served from the cache
    assert other.stats["cache_hits"] == 0 and len(faulty_server.completion_requests()) == 2
    again = backend(faulty_server.url, cache_dir=str(tmp_path), max_tokens=7)
    [[out]] = again([["abc"]])
    assert out.cached and out == "ok" and out.usage == {"prompt_tokens": 1, "completion_tokens": 1}
    assert len(faulty_server.completion_requests()) == 2


def test_registered_in_spacy_llm():
    assert registry.llm_models.get("raredis.OpenAIChat.v1") is not None
