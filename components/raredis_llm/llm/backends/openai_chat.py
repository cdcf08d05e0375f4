"""``raredis.OpenAIChat.v1``: any OpenAI-compatible server as a spacy-llm model.

::

    [components.llm.model]
    @llm_models = "raredis.OpenAIChat.v1"
    name = "gemma-3-270m"
    base_url = "http://127.0.0.1:8080/v1"
    endpoint = "completions"       # or "chat"
    cache_dir = "cache/llm"

Requests, retries and concurrency are :class:`raredis_llm.models.openai_engine.OpenAIEngine`;
answers are cached as they arrive, so a failed run resumes where it stopped.
"""

from typing import Any, Dict, List, Optional

from confection import SimpleFrozenDict
from spacy_llm.registry import registry

from ...models.openai_engine import OpenAIEngine
from .base import EngineBackend


class OpenAIChat(EngineBackend):
    @property
    def client(self):
        return self.engine.client


@registry.llm_models("raredis.OpenAIChat.v1")
def make_openai_chat_v1(
    name: str,
    base_url: Optional[str] = None,
    use_openai: bool = False,
    api_key_env: str = "OPENAI_API_KEY",
    endpoint: str = "chat",
    system_prompt: Optional[str] = None,
    temperature: float = 0.0,
    max_tokens: Optional[int] = 512,
    size_to_input: bool = True,
    stop: Optional[List[str]] = None,
    extra_body: Dict[str, Any] = SimpleFrozenDict(),
    timeout: float = 60.0,
    max_retries: int = 5,
    backoff_base: float = 1.0,
    backoff_max: float = 60.0,
    max_retry_after: float = 300.0,
    max_concurrency: int = 4,
    azure_endpoint: Optional[str] = None,
    azure_api_version: Optional[str] = None,
    azure_deployment: Optional[str] = None,
    context_length: Optional[int] = None,
    cache_dir: Optional[str] = None,
) -> OpenAIChat:
    """An OpenAI-compatible chat/completions server as a spacy-llm model.

    name: model name sent to the server. base_url: the server (required unless
    use_openai or azure_endpoint). endpoint: "chat" or "completions" (base models).
    api_key_env: environment variable holding the key. temperature, max_tokens, stop,
    system_prompt (chat only), extra_body (extra JSON fields, e.g. {"seed": 0}).
    size_to_input: prompts from raredis.NER.v1 get max_tokens sized to their sentence
    (ner/budget.py, tokens estimated from bytes), at most max_tokens; false: always
    max_tokens. timeout: seconds per request. max_retries, backoff_base, backoff_max,
    max_retry_after: the retry policy. max_concurrency: parallel requests.
    context_length: enables sharding of long docs. cache_dir: response cache folder.
    """
    engine = OpenAIEngine(name, base_url, use_openai=use_openai, api_key_env=api_key_env, endpoint=endpoint,
                          system_prompt=system_prompt, temperature=temperature, extra_body=dict(extra_body),
                          timeout=timeout, max_retries=max_retries, backoff_base=backoff_base,
                          backoff_max=backoff_max, max_retry_after=max_retry_after,
                          max_concurrency=max_concurrency, azure_endpoint=azure_endpoint,
                          azure_api_version=azure_api_version, azure_deployment=azure_deployment)
    return OpenAIChat(engine, max_new_tokens=None if size_to_input else max_tokens,
                      max_new_tokens_cap=max_tokens or 512, stop=stop, cache_dir=cache_dir,
                      context_length=context_length)
