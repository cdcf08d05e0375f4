"""``raredis.OpenAIChat.v1``: any OpenAI-compatible server through the ``openai`` SDK.

Works with llama.cpp's / llama-cpp-python's server, vLLM, Ollama, LM Studio, TGI, Azure
OpenAI and (only when asked for explicitly) api.openai.com::

    [components.llm.model]
    @llm_models = "raredis.OpenAIChat.v1"
    name = "gemma-3-270m"
    base_url = "http://127.0.0.1:8080/v1"
    endpoint = "completions"       # or "chat"
    cache_dir = "cache/llm"

Where requests go
    ``base_url`` is required. Without it the backend refuses to start rather than fall
    back to the SDK's default (api.openai.com); set ``use_openai = true`` to mean OpenAI's
    own API, or the ``azure_*`` settings for Azure OpenAI. ``OPENAI_BASE_URL`` in the
    environment is ignored for the same reason.

Keys
    Read from the environment variable named by ``api_key_env`` (default
    ``OPENAI_API_KEY``). A local server needs none; a placeholder is sent then. OpenAI
    and Azure fail early when the variable is unset.

Retries (our own loop; the SDK's are switched off so behaviour is fixed and tested)
    Connection errors, timeouts, 408/409/429 and 5xx answers, and 200 answers whose
    body is not a usable completion (not JSON, no ``choices``) are retried up to
    ``max_retries`` times with exponential backoff (``backoff_base * 2**attempt``, at
    most ``backoff_max`` seconds, with jitter); a 429's ``Retry-After`` (or
    ``retry-after-ms``) is honoured instead, up to ``max_retry_after`` seconds. Other
    4xx answers (bad request, auth, unknown model) fail at once. An empty completion
    is a valid answer (counted in ``stats["empty_responses"]``, logged).

Concurrency and failure
    Prompts of a batch run on ``max_concurrency`` threads. Each answer is written to
    the response cache (``cache_dir``) as soon as it arrives. When a prompt still fails
    after its retries, prompts not yet started are cancelled, running ones finish, and
    :class:`~raredis_llm.llm.backends.base.LLMBackendError` names the doc (its number in
    the run), the shard, the end of the prompt, the server and the last error. Nothing
    finished is lost: rerunning the same command answers the finished prompts from the
    cache and only requests the missing ones.
"""

import email.utils
import json
import logging
import os
import random
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor, as_completed
from typing import Any, Dict, List, Optional, Sequence, Tuple

from confection import SimpleFrozenDict
from spacy_llm.registry import registry

from ..response import Completion
from ..budget import answer_budget, estimate_tokens
from .base import CachingBackend, LLMBackendError, describe_prompt

logger = logging.getLogger("raredis_llm")

OPENAI_URL = "https://api.openai.com/v1"
LOCAL_PLACEHOLDER_KEY = "sk-no-key-needed"
ENDPOINTS = ("chat", "completions")
RETRY_STATUS = {408, 409, 429}


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: Optional[float] = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Fatal(Exception):
    pass


class _Cancelled(Exception):
    pass


def parse_retry_after(headers: Any) -> Optional[float]:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP date), or None."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class OpenAIChat(CachingBackend):
    def __init__(
        self,
        name: str,
        base_url: Optional[str] = None,
        use_openai: bool = False,
        api_key_env: str = "OPENAI_API_KEY",
        endpoint: str = "chat",
        system_prompt: Optional[str] = None,
        temperature: float = 0.0,
        max_tokens: Optional[int] = 512,
        size_to_input: bool = True,
        stop: Optional[Sequence[str]] = None,
        extra_body: Optional[Dict[str, Any]] = None,
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
        progress: bool = False,
    ):
        super().__init__(cache_dir=cache_dir, context_length=context_length)
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}, got {endpoint!r}")
        if max_concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise ValueError("Need max_concurrency >= 1, max_retries >= 0 and timeout > 0")
        import openai

        self._openai = openai
        self.model = name
        self.endpoint = endpoint
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.size_to_input = bool(size_to_input)
        self.stop = list(stop) if stop else None
        self.extra_body = dict(extra_body or {})
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_retry_after = float(max_retry_after)
        self.max_concurrency = int(max_concurrency)
        self.progress = progress
        api_key = os.environ.get(api_key_env) if api_key_env else None
        common = dict(timeout=self.timeout, max_retries=0)

        if azure_endpoint:
            if base_url or use_openai:
                raise ValueError("Set either azure_endpoint or base_url/use_openai, not both")
            if not api_key:
                raise ValueError(f"Azure OpenAI needs an API key in the environment variable {api_key_env}")
            if not azure_api_version:
                raise ValueError("Azure OpenAI needs azure_api_version (e.g. '2024-10-21')")
            self.server = f"{azure_endpoint} (Azure deployment {azure_deployment or name})"
            self.client = openai.AzureOpenAI(
                azure_endpoint=azure_endpoint,
                api_version=azure_api_version,
                azure_deployment=azure_deployment or name,
                api_key=api_key,
                **common,
            )
            self.model_id = f"azure:{azure_deployment or name}"
        else:
            if not base_url:
                if not use_openai:
                    raise ValueError(
                        "raredis.OpenAIChat.v1 needs base_url, the OpenAI-compatible server to "
                        "call (e.g. base_url = \"http://127.0.0.1:8080/v1\" for a local llama.cpp "
                        "server). It never falls back to api.openai.com: set use_openai = true to "
                        "use OpenAI's API (key from $" + str(api_key_env) + ")."
                    )
                base_url = OPENAI_URL
            if not api_key:
                if use_openai or base_url.rstrip("/") == OPENAI_URL:
                    raise ValueError(f"OpenAI's API needs a key in the environment variable {api_key_env}")
                api_key = LOCAL_PLACEHOLDER_KEY
            self.server = base_url
            self.client = openai.OpenAI(base_url=base_url, api_key=api_key, **common)
            self.model_id = f"openai:{name}"
        self._warned_empty = False

    # cache key -------------------------------------------------------------------------------
    def cache_settings(self) -> Dict[str, Any]:
        return {
            "backend": "openai",
            "endpoint": self.endpoint,
            "system_prompt": self.system_prompt,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": self.stop,
            "extra_body": self.extra_body,
        }

    # one request --------------------------------------------------------------------------------
    def sizes_to_input(self) -> bool:
        return self.size_to_input

    def max_tokens_for(self, prompt: str) -> Optional[int]:
        """``max_tokens`` for one request: sized to the prompt's sentence when it says
        which (budget.py, tokens estimated from bytes), never above ``max_tokens``."""
        if self.size_to_input:
            sized = answer_budget(prompt, estimate_tokens, cap=self.max_tokens)
            if sized is not None:
                return sized
        return self.max_tokens

    def _request(self, prompt: str):
        kwargs: Dict[str, Any] = dict(model=self.model, temperature=self.temperature)
        max_tokens = self.max_tokens_for(prompt)
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if self.stop:
            kwargs["stop"] = self.stop
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        if self.endpoint == "chat":
            messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
            messages.append({"role": "user", "content": prompt})
            return self.client.chat.completions.with_raw_response.create(messages=messages, **kwargs)
        return self.client.completions.with_raw_response.create(prompt=prompt, **kwargs)

    def _attempt(self, prompt: str) -> Completion:
        """One HTTP call; raises _Retryable / _Fatal with a readable reason."""
        openai = self._openai
        self._count("requests")
        try:
            raw = self._request(prompt)
        except openai.APITimeoutError:
            raise _Retryable(f"no answer within timeout={self.timeout:g}s")
        except openai.APIConnectionError as err:
            cause = err.__cause__ or err
            raise _Retryable(f"connection failed ({type(cause).__name__}: {cause})")
        except openai.APIStatusError as err:
            status = err.status_code
            detail = _error_message(err)
            if status in RETRY_STATUS or status >= 500:
                after = parse_retry_after(err.response.headers) if status == 429 else None
                raise _Retryable(f"HTTP {status}: {detail}", retry_after=after)
            hint = " (check the key in the api_key_env variable)" if status in (401, 403) else ""
            raise _Fatal(f"HTTP {status}: {detail}{hint}")
        text = raw.http_response.text
        try:
            data = json.loads(text)
        except ValueError:
            raise _Retryable(f"malformed response body (not JSON): {text[:120]!r}")
        return self._completion_from(data)

    def _completion_from(self, data: Any) -> Completion:
        if not isinstance(data, dict):
            raise _Retryable(f"malformed response (expected a JSON object): {str(data)[:120]!r}")
        if "error" in data and not data.get("choices"):
            raise _Retryable(f"server error in body: {str(data['error'])[:200]}")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _Retryable(f"malformed response (no choices): {json.dumps(data)[:160]}")
        choice = choices[0]
        if self.endpoint == "chat":
            message = choice.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            if content is None and isinstance(message, dict) and message.get("refusal"):
                raise _Fatal(f"the model refused: {message['refusal'][:200]}")
        else:
            content = choice.get("text")
        if content is None:
            raise _Retryable(f"malformed response (choice without text): {json.dumps(choice)[:160]}")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Completion(str(content), usage=usage, meta={"finish_reason": choice.get("finish_reason")})

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after) + random.uniform(0, 0.05)
        base = min(self.backoff_max, self.backoff_base * (2**attempt))
        return base * random.uniform(0.5, 1.0)

    def complete_one(self, prompt: str, stop_event: Optional[threading.Event] = None) -> Completion:
        """Answer one prompt with retries; raises LLMBackendError (reason) when out of tries."""
        attempt = 0
        while True:
            if stop_event is not None and stop_event.is_set():
                raise _Cancelled()
            try:
                return self._attempt(prompt)
            except _Fatal as err:
                raise LLMBackendError(str(err)) from None
            except _Retryable as err:
                if attempt >= self.max_retries:
                    raise LLMBackendError(f"{err.reason} (gave up after {attempt + 1} attempts)") from None
                delay = self._delay(attempt, err.retry_after)
                logger.warning(
                    "Request to %s failed: %s; retry %d/%d in %.1fs",
                    self.server, err.reason, attempt + 1, self.max_retries, delay,
                )
                self._count("retries")
                attempt += 1
                if stop_event is not None:
                    if stop_event.wait(delay):
                        raise _Cancelled()
                else:
                    time.sleep(delay)

    # a batch ----------------------------------------------------------------------------------------
    def _complete(self, items: Sequence[Tuple[int, int, str]], on_done) -> None:
        stop_event = threading.Event()
        failures: List[Tuple[int, str]] = []
        n_done = 0
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(items), desc=f"LLM {self.model}", unit="prompt")
        pool = ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(items)), thread_name_prefix="raredis-llm")
        try:
            def run(prompt: str) -> Completion:
                try:
                    return self.complete_one(prompt, stop_event)
                except LLMBackendError:
                    stop_event.set()  # before this worker can pick up the next prompt
                    raise

            futures = {pool.submit(run, prompt): pos for pos, (_, _, prompt) in enumerate(items)}
            for future in as_completed(futures):
                pos = futures[future]
                try:
                    completion = future.result()
                except (_Cancelled, CancelledError):
                    continue
                except LLMBackendError as err:
                    failures.append((pos, str(err)))
                    self._count("failures")
                    stop_event.set()
                    for other in futures:
                        other.cancel()
                    continue
                if not completion.text.strip() and not self._warned_empty:
                    logger.warning("%s returned an empty completion (further ones not logged)", self.server)
                    self._warned_empty = True
                on_done(pos, completion)
                n_done += 1
                if bar is not None:
                    bar.update(1)
        except BaseException:
            stop_event.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if bar is not None:
                bar.close()
        if failures:
            pos, reason = min(failures)
            doc_no, shard, prompt = items[pos]
            more = f" ({len(failures) - 1} more prompts failed too)" if len(failures) > 1 else ""
            raise LLMBackendError(
                f"LLM request failed for doc #{doc_no} (0-based, in the order docs reached this "
                f"model), shard {shard}, prompt ending {describe_prompt(prompt)!r}: server "
                f"{self.server}, model {self.model!r}: {reason}{more}. "
                + self.resume_hint(n_done, len(items))
            )


def _error_message(err: Any) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        return str(inner)[:300]
    return str(getattr(err, "message", err))[:300]


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
    progress: bool = False,
) -> OpenAIChat:
    """An OpenAI-compatible chat/completions server as a spacy-llm model.

    name: model name sent to the server. base_url: the server (required unless
    use_openai or azure_endpoint). endpoint: "chat" or "completions" (base models).
    api_key_env: environment variable holding the key. temperature, max_tokens, stop,
    system_prompt (chat only), extra_body (extra JSON fields, e.g. {"seed": 0}).
    size_to_input: prompts from raredis.NER.v1 get max_tokens sized to their sentence
    (llm/budget.py), at most max_tokens; false: always max_tokens.
    timeout: seconds per request. max_retries, backoff_base, backoff_max, max_retry_after:
    the retry policy. max_concurrency: parallel requests. context_length: enables
    sharding of long docs. cache_dir: response cache folder (None = off).
    """
    return OpenAIChat(
        name=name, base_url=base_url, use_openai=use_openai, api_key_env=api_key_env,
        endpoint=endpoint, system_prompt=system_prompt, temperature=temperature,
        max_tokens=max_tokens, size_to_input=size_to_input, stop=stop,
        extra_body=dict(extra_body), timeout=timeout,
        max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max,
        max_retry_after=max_retry_after, max_concurrency=max_concurrency,
        azure_endpoint=azure_endpoint, azure_api_version=azure_api_version,
        azure_deployment=azure_deployment, context_length=context_length,
        cache_dir=cache_dir, progress=progress,
    )
