"""raredis.OpenAIChat.v1 through the openai SDK against a real llama.cpp server.

The server (tests/llm/conftest.py::llama_server) runs the offline Gemma 3 270M GGUF.
A 270M base model annotates poorly; these tests assert the mechanics (requests, usage,
valid doc.ents, cache) and that what the model's answer contains ends up on the doc.
"""

import pytest
from tests.llm.servers import assert_ents_follow_responses, make_llm_nlp

from raredis_llm.corpus import schema
from raredis_llm.llm.backends import LLMBackendError, make_openai_chat_v1


TEXTS = ["Patients with cystic fibrosis often have a chronic cough.", "Marfan syndrome causes long fingers."]
LABELS = ["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]


def model_cfg(url, cache_dir):
    return {
        "@llm_models": "raredis.OpenAIChat.v1",
        "name": "gemma-3-270m",
        "base_url": url,
        "endpoint": "completions",
        "max_tokens": 32,
        "stop": ["\n"],
        "max_concurrency": 2,
        "timeout": 120,
        "context_length": 2048,
        "cache_dir": str(cache_dir),
    }


@pytest.mark.slow
def test_pipeline_against_llama_server(llama_server, tiny_template, tmp_path):
    nlp = make_llm_nlp(model_cfg(llama_server, tmp_path / "cache"), tiny_template)
    docs = list(nlp.pipe(TEXTS))
    model = nlp.get_pipe("llm")._model
    assert model.stats["requests"] == 2 and model.stats["failures"] == 0 and model.stats["retries"] == 0
    for doc in docs:
        usage = doc.user_data[schema.LLM_USAGE]
        # token counts come from the server's tokenizer
        assert usage["requests"] == 1 and usage["prompt_tokens"] > 50 and 1 <= usage["completion_tokens"] <= 32
    # A 270M base model may or may not tag anything (seen here: it usually does); whatever
    # it wrote, the entities the parser finds in it are on the doc.
    assert_ents_follow_responses(docs, LABELS)
    assert model.stats["prompt_tokens"] == sum(d.user_data[schema.LLM_USAGE]["prompt_tokens"] for d in docs)

    # A rerun is answered from the response cache: no request reaches the server.
    nlp2 = make_llm_nlp(model_cfg(llama_server, tmp_path / "cache"), tiny_template)
    docs2 = list(nlp2.pipe(TEXTS))
    model2 = nlp2.get_pipe("llm")._model
    assert model2.stats["requests"] == 0 and model2.stats["cache_hits"] == 2
    assert [d.user_data[schema.LLM_USAGE] for d in docs2] == [
        dict(d.user_data[schema.LLM_USAGE], cache_hits=1) for d in docs
    ]
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs2] == [
        [(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs
    ]


@pytest.mark.slow
def test_chat_endpoint(llama_server):
    model = make_openai_chat_v1(name="gemma-3-270m", base_url=llama_server, endpoint="chat", max_tokens=4, timeout=120)
    [[out]] = model([["Name one rare disease."]])
    assert isinstance(out, str) and out.usage["prompt_tokens"] > 3  # a base model may answer ""
    assert out.usage["completion_tokens"] <= 4


@pytest.mark.slow
def test_prompt_longer_than_context_is_a_clear_error(llama_server):
    model = make_openai_chat_v1(name="gemma-3-270m", base_url=llama_server, endpoint="completions",
                       max_tokens=4, timeout=120, max_retries=3)
    with pytest.raises(LLMBackendError, match=r"HTTP 400.*context") as info:
        model([["fever " * 3000]])
    assert llama_server in str(info.value)
    assert model.stats["requests"] == 1  # not retried: the same prompt would fail again


@pytest.mark.parametrize("bad", ["missing.gguf", "model.bin"])
def test_server_command_checks_the_model(tmp_path, bad):
    from raredis_llm.models.llama_server import server_command

    with pytest.raises(FileNotFoundError, match="GGUF"):
        server_command(tmp_path / bad)


def test_server_command():
    from raredis_llm.models.llama_server import server_command

    cmd = server_command(port=9999, n_ctx=4096, n_threads=2)
    assert cmd[1:3] == ["-m", "llama_cpp.server"] and cmd[cmd.index("--model") + 1].endswith(".gguf")
    assert cmd[cmd.index("--port") + 1] == "9999" and cmd[cmd.index("--n_ctx") + 1] == "4096"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
