"""Where raredis.OpenAIChat.v1 sends requests, and which settings it refuses."""

import pytest
from spacy_llm.registry import registry

from raredis_llm.llm.backends import OpenAIChat
from raredis_llm.models.openai_engine import LOCAL_PLACEHOLDER_KEY, parse_retry_after


def make(**kwargs):
    return registry.llm_models.get("raredis.OpenAIChat.v1")(**kwargs)


def test_base_url_is_required(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")  # ignored
    with pytest.raises(ValueError, match="needs base_url.*use_openai = true"):
        make(name="gpt-4o-mini")


def test_openai_only_when_asked_and_needs_key(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ValueError, match="MY_KEY"):
        make(name="gpt-4o-mini", use_openai=True, api_key_env="MY_KEY")
    monkeypatch.setenv("MY_KEY", "sk-test")
    model = make(name="gpt-4o-mini", use_openai=True, api_key_env="MY_KEY")
    assert str(model.client.base_url).startswith("https://api.openai.com/v1")
    assert model.client.api_key == "sk-test" and model.client.max_retries == 0


def test_local_server_gets_placeholder_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = make(name="m", base_url="http://127.0.0.1:9/v1", timeout=7)
    assert model.client.api_key == LOCAL_PLACEHOLDER_KEY
    assert str(model.client.base_url).startswith("http://127.0.0.1:9/v1")
    assert model.client.timeout == 7 and model.client.max_retries == 0


def test_azure_settings(monkeypatch):
    import openai

    monkeypatch.setenv("AZ_KEY", "k")
    model = make(name="gpt4o", azure_endpoint="https://example.openai.azure.com",
                 azure_api_version="2024-10-21", azure_deployment="my-deploy", api_key_env="AZ_KEY")
    assert isinstance(model.client, openai.AzureOpenAI)
    assert "my-deploy" in str(model.client.base_url) and model.model_id == "azure:my-deploy"
    with pytest.raises(ValueError, match="not both"):
        make(name="x", azure_endpoint="https://e", azure_api_version="v", base_url="http://h/v1", api_key_env="AZ_KEY")
    with pytest.raises(ValueError, match="azure_api_version"):
        make(name="x", azure_endpoint="https://e", api_key_env="AZ_KEY")


def test_bad_settings():
    with pytest.raises(ValueError, match="endpoint"):
        make(name="m", base_url="http://127.0.0.1:9/v1", endpoint="embeddings")
    with pytest.raises(ValueError):
        make(name="m", base_url="http://127.0.0.1:9/v1", max_concurrency=0)


def test_context_length_and_cache_off_by_default():
    model = make(name="m", base_url="http://127.0.0.1:9/v1", context_length=2048)
    assert model.context_length == 2048 and model.cache is None
    assert isinstance(model, OpenAIChat)


def test_parse_retry_after():
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
