"""The engine for any OpenAI-compatible server, through the ``openai`` SDK.

llama.cpp's server, vLLM, Ollama, LM Studio, TGI, Azure OpenAI and (only when asked for
explicitly: ``use_openai``) api.openai.com. ``base_url`` is required: it never falls back
to OpenAI's API, and ``OPENAI_BASE_URL`` is ignored. The key comes from the environment
variable ``api_key_env`` (a local server needs none).

Retries are our own (the SDK's are off): connection errors, timeouts, 408/409/429, 5xx and
200 answers that are no usable completion are retried with exponential backoff and
jitter; a 429's ``Retry-After`` is honoured (up to ``max_retry_after``). Other 4xx fail at
once. Prompts run on ``max_concurrency`` threads; each answer is handed to ``on_result``
as it arrives; when one still fails, prompts not started are cancelled and
:class:`EngineError` says which prompt failed and why.
"""

import email.utils
import json
import logging
import math
import os
import random
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor, as_completed
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .completion import Completion
from .engine import Constraint, Engine, EngineError, EngineFailure, OnResult, check_requests

logger = logging.getLogger(__name__)

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


class OpenAIEngine(Engine):
    kind = "openai"

    def __init__(
        self,
        name: str,
        base_url: Optional[str] = None,
        *,
        use_openai: bool = False,
        api_key_env: str = "OPENAI_API_KEY",
        endpoint: str = "completions",
        system_prompt: Optional[str] = None,
        temperature: float = 0.0,
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
    ):
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
        self.extra_body = dict(extra_body or {})
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_retry_after = float(max_retry_after)
        self.max_concurrency = int(max_concurrency)
        self.stats: Dict[str, int] = {"requests": 0, "retries": 0, "failures": 0, "empty_responses": 0}
        self._stats_lock = threading.Lock()
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
            self.client = openai.AzureOpenAI(azure_endpoint=azure_endpoint, api_version=azure_api_version,
                                             azure_deployment=azure_deployment or name, api_key=api_key, **common)
            self._model_id = f"azure:{azure_deployment or name}"
        else:
            if not base_url:
                if not use_openai:
                    raise ValueError(
                        "An OpenAI-compatible engine needs base_url, the server to call (e.g. "
                        "base_url = \"http://127.0.0.1:8080/v1\" for a local llama.cpp server). It never "
                        "falls back to api.openai.com: set use_openai = true to use OpenAI's API (key "
                        "from $" + str(api_key_env) + ").")
                base_url = OPENAI_URL
            if not api_key:
                if use_openai or base_url.rstrip("/") == OPENAI_URL:
                    raise ValueError(f"OpenAI's API needs a key in the environment variable {api_key_env}")
                api_key = LOCAL_PLACEHOLDER_KEY
            self.server = base_url
            self.client = openai.OpenAI(base_url=base_url, api_key=api_key, **common)
            self._model_id = f"openai:{name}"
        self._warned_empty = False

    @property
    def model_id(self) -> str:
        return self._model_id

    def settings(self) -> Dict[str, Any]:
        return {"engine": self.kind, "endpoint": self.endpoint, "system_prompt": self.system_prompt,
                "temperature": self.temperature, "extra_body": self.extra_body}

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] = self.stats.get(key, 0) + int(n)

    # one request --------------------------------------------------------------------------------
    def _request(self, prompt: str, max_tokens: Optional[int], stop: Sequence[str]):
        kwargs: Dict[str, Any] = dict(model=self.model, temperature=self.temperature)
        if max_tokens is not None:
            kwargs["max_tokens"] = int(max_tokens)
        if stop:
            kwargs["stop"] = list(stop)
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        if self.endpoint == "chat":
            messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
            messages.append({"role": "user", "content": prompt})
            return self.client.chat.completions.with_raw_response.create(messages=messages, **kwargs)
        return self.client.completions.with_raw_response.create(prompt=prompt, **kwargs)

    def _attempt(self, prompt: str, max_tokens: Optional[int], stop: Sequence[str]) -> Completion:
        """One HTTP call; raises _Retryable / _Fatal with a readable reason."""
        openai = self._openai
        self._count("requests")
        try:
            raw = self._request(prompt, max_tokens, stop)
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

    def complete_one(self, prompt: str, max_tokens: Optional[int] = None, stop: Sequence[str] = (),
                     stop_event: Optional[threading.Event] = None) -> Completion:
        """Answer one prompt with retries; raises EngineError (the reason) when out of tries."""
        attempt = 0
        while True:
            if stop_event is not None and stop_event.is_set():
                raise _Cancelled()
            try:
                return self._attempt(prompt, max_tokens, stop)
            except _Fatal as err:
                raise EngineError(str(err)) from None
            except _Retryable as err:
                if attempt >= self.max_retries:
                    raise EngineError(f"{err.reason} (gave up after {attempt + 1} attempts)") from None
                delay = self._delay(attempt, err.retry_after)
                logger.warning("Request to %s failed: %s; retry %d/%d in %.1fs",
                               self.server, err.reason, attempt + 1, self.max_retries, delay)
                self._count("retries")
                attempt += 1
                if stop_event is not None:
                    if stop_event.wait(delay):
                        raise _Cancelled()
                else:
                    time.sleep(delay)

    # a batch ----------------------------------------------------------------------------------------
    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: Sequence[Optional[int]],
        stop: Sequence[str] = (),
        constraints: Optional[Sequence[Optional[Constraint]]] = None,
        on_result: Optional[OnResult] = None,
    ) -> List[Completion]:
        """Answers in input order; constraints are not sent (servers differ in how they
        take them). A prompt that fails after its retries raises :class:`EngineFailure`
        naming it, once the prompts already running have finished."""
        check_requests(prompts, max_new_tokens, constraints)
        results: List[Optional[Completion]] = [None] * len(prompts)
        if not prompts:
            return []
        stop_event = threading.Event()
        failures: List[Tuple[int, str]] = []
        pool = ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(prompts)), thread_name_prefix="raredis-llm")
        try:
            def run(i: int) -> Completion:
                try:
                    return self.complete_one(prompts[i], max_new_tokens[i], [s for s in stop if s], stop_event)
                except EngineError:
                    stop_event.set()  # before this worker can pick up the next prompt
                    raise

            futures = {pool.submit(run, i): i for i in range(len(prompts))}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    completion = future.result()
                except (_Cancelled, CancelledError):
                    continue
                except EngineError as err:
                    failures.append((i, str(err)))
                    self._count("failures")
                    stop_event.set()
                    for other in futures:
                        other.cancel()
                    continue
                if not completion.text.strip():
                    self._count("empty_responses")
                    if not self._warned_empty:
                        logger.warning("%s returned an empty completion (further ones not logged)", self.server)
                        self._warned_empty = True
                results[i] = completion
                if on_result is not None:
                    on_result(i, completion)
        except BaseException:
            stop_event.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if failures:
            i, reason = min(failures)
            raise EngineFailure(i, f"server {self.server}, model {self.model!r}: {reason}", n_failed=len(failures),
                                n_done=sum(r is not None for r in results))
        return results  # type: ignore[return-value]


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` without the server's tokenizer: one per 3 UTF-8 bytes errs on the
    generous side of current vocabularies on medical words."""
    return int(math.ceil(len(text.encode("utf8")) / 3))


def _error_message(err: Any) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        return str(inner)[:300]
    return str(getattr(err, "message", err))[:300]
