"""A real, deliberately unreliable OpenAI-compatible HTTP server for fault tests.

It listens on 127.0.0.1 (a free port), answers ``GET /v1/models``,
``POST /v1/chat/completions`` and ``POST /v1/completions`` and can be told to
misbehave, either for the next N requests (``server.fail_next(...)``) or for every
prompt containing a marker (``server.fail_prompts_containing(marker, fault)``):

* ``"500"`` / ``"503"``: an error status with an OpenAI-style error body;
* ``"429"``: rate limited, with a ``Retry-After`` header (``retry_after`` seconds);
* ``"slow"``: sleep ``delay`` seconds before answering (for client timeouts);
* ``"malformed"``: status 200 with a body that is not JSON;
* ``"no_choices"``: valid JSON without ``choices``;
* ``"empty"``: a well-formed completion whose text is ``""``;
* ``"garbage"``: a well-formed completion with random bytes as text;
* ``"400"``: a non-retryable client error.

Every request is recorded in ``server.requests`` (path, prompt, fault, time), so tests
can assert exactly how many calls the client made and when.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, List, Optional

FAULTS = ("500", "503", "429", "slow", "malformed", "no_choices", "empty", "garbage", "400")


@dataclass
class Fault:
    kind: str
    retry_after: float = 1.0
    delay: float = 2.0

    def __post_init__(self):
        if self.kind not in FAULTS:
            raise ValueError(f"Unknown fault {self.kind!r}; one of {FAULTS}")


@dataclass
class Request:
    path: str
    prompt: Optional[str]
    fault: Optional[str]
    time: float
    body: Dict = field(default_factory=dict)


def _prompt_of(path: str, body: Dict) -> Optional[str]:
    if path.endswith("/chat/completions"):
        messages = body.get("messages") or []
        return messages[-1].get("content") if messages else None
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        return prompt[0] if prompt else None
    return prompt


class FaultyOpenAIServer:
    def __init__(self, answer: Optional[Callable[[str], str]] = None, model: str = "faulty-test-model"):
        self.answer = answer or (lambda prompt: "ok")
        self.model = model
        self.requests: List[Request] = []
        self._queue: List[Fault] = []
        self._by_marker: Dict[str, Fault] = {}
        self._lock = threading.Lock()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self.in_flight = 0
        self.max_in_flight = 0  # most POSTs handled at the same time (concurrency tests)

    # control --------------------------------------------------------------------------
    def fail_next(self, kind: str, times: int = 1, **kwargs) -> "FaultyOpenAIServer":
        with self._lock:
            self._queue.extend(Fault(kind, **kwargs) for _ in range(times))
        return self

    def fail_prompts_containing(self, marker: str, kind: str, **kwargs) -> "FaultyOpenAIServer":
        with self._lock:
            self._by_marker[marker] = Fault(kind, **kwargs)
        return self

    def recover(self) -> None:
        with self._lock:
            self._queue.clear()
            self._by_marker.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    def completion_requests(self, containing: Optional[str] = None) -> List[Request]:
        with self._lock:
            reqs = [r for r in self.requests if r.path.endswith("completions")]
        if containing is not None:
            reqs = [r for r in reqs if r.prompt and containing in r.prompt]
        return reqs

    def _pick_fault(self, prompt: Optional[str]) -> Optional[Fault]:
        with self._lock:
            for marker, fault in self._by_marker.items():
                if prompt and marker in prompt:
                    return fault
            if self._queue:
                return self._queue.pop(0)
        return None

    def _record(self, req: Request) -> None:
        with self._lock:
            self.requests.append(req)

    # lifecycle ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FaultyOpenAIServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def _send(self, status: int, body: bytes, headers: Optional[Dict[str, str]] = None):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_GET(self):
                server._record(Request(self.path, None, None, time.monotonic()))
                if self.path.rstrip("/") == "/v1/models":
                    body = {"object": "list", "data": [{"id": server.model, "object": "model"}]}
                    self._send(200, json.dumps(body).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self):
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._post()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _post(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                path = self.path.rstrip("/")
                prompt = _prompt_of(path, body)
                fault = server._pick_fault(prompt)
                server._record(Request(path, prompt, fault.kind if fault else None, time.monotonic(), body))
                if path not in ("/v1/chat/completions", "/v1/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                kind = fault.kind if fault else None
                if kind in ("500", "503", "400"):
                    err = {"error": {"message": f"injected {kind}", "type": "server_error", "code": kind}}
                    self._send(int(kind), json.dumps(err).encode())
                    return
                if kind == "429":
                    err = {"error": {"message": "rate limited (injected)", "type": "rate_limit"}}
                    headers = {"Retry-After": f"{fault.retry_after:g}"}
                    self._send(429, json.dumps(err).encode(), headers)
                    return
                if kind == "slow":
                    time.sleep(fault.delay)
                if kind == "malformed":
                    self._send(200, b'{"choices": [{"text": "unterminated')
                    return
                if kind == "no_choices":
                    self._send(200, json.dumps({"id": "x", "object": "chat.completion"}).encode())
                    return
                if kind == "empty":
                    text = ""
                elif kind == "garbage":
                    text = "\x00\ufffd}{ ||| ]] \u2603 ~~ 1. | | |\n\x1b[31m"
                else:
                    text = server.answer(prompt or "")
                usage = {
                    "prompt_tokens": len((prompt or "").split()),
                    "completion_tokens": len(text.split()),
                }
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                if path.endswith("/chat/completions"):
                    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    obj = "chat.completion"
                else:
                    choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
                    obj = "text_completion"
                out = {
                    "id": f"cmpl-{len(server.requests)}",
                    "object": obj,
                    "created": int(time.time()),
                    "model": body.get("model", server.model),
                    "choices": [choice],
                    "usage": usage,
                }
                self._send(200, json.dumps(out).encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="faulty-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FaultyOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- test helpers


# A two-example prompt for raredis.NER.v1: short enough for a 270M model on a busy CPU
# (~100 tokens), and a pattern a base model continues in the inline format.
TINY_TEMPLATE = """Tag the diseases and signs in the text.

Text: Fever is common in malaria.
Answer: <SIGN>Fever</SIGN> is common in <DISEASE>malaria</DISEASE>.

Text: Children with asthma may wheeze.
Answer: Children with <DISEASE>asthma</DISEASE> may <SIGN>wheeze</SIGN>.

Text: {{ text }}
Answer:"""


def text_of_prompt(prompt: str) -> str:
    """The doc text inside a TINY_TEMPLATE prompt."""
    return prompt.rsplit("Text: ", 1)[-1].rsplit("\nAnswer:", 1)[0]


def make_llm_nlp(model_cfg: dict, template: Path, save_io: bool = True):
    """A blank English pipeline with one spacy-llm ``llm`` component running raredis.NER.v1."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe(
        "llm",
        config={
            "save_io": save_io,
            "task": {
                "@llm_tasks": "raredis.NER.v1",
                "labels": ["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"],
                "output_format": "inline",
                "template": str(template),
            },
            "model": model_cfg,
        },
    )
    nlp.initialize()
    return nlp


def assert_ents_follow_responses(docs, labels) -> None:
    """Whatever a real model answered (saved with ``save_io``), ``doc.ents`` are exactly
    the inline-format mentions the parser finds in it, and an answer holding a tagged
    mention always gives the doc an entity."""
    from raredis_llm.ner.formats import get_format

    fmt = get_format("inline")
    for doc in docs:
        assert isinstance(doc.ents, tuple) and all(e.label_ in labels for e in doc.ents)
        response = doc.user_data["llm_io"]["llm"]["response"][0]
        spans, _ = fmt.parse(doc.text, response, labels)
        expected = [(doc.char_span(s, e, alignment_mode="expand").text, label) for s, e, label in spans]
        assert [(e.text, e.label_) for e in doc.ents] == expected
        if spans:
            assert doc.ents, response
