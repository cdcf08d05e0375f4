"""Engines turn ``(seq, text)`` items into ``(seq, doc, error)`` results, one per item and
in input order. :class:`SpacyEngine` runs a loaded spaCy pipeline in-process (optionally
with ``n_process`` worker processes); another engine (e.g. one that sends the work to
an OpenAI-compatible server with N requests in flight) only has to keep the same
contract and register itself in :data:`ENGINES`.

Per-document isolation in :class:`SpacyEngine`: the pipeline runs with an error handler
that drops a failing batch instead of raising; the documents of a dropped batch (or of
a stream that broke off) are then run one at a time, so only the document that really
fails is reported, with its exception. Work goes in windows of at most ``window`` items
/ ``window_chars`` characters, each inside ``nlp.memory_zone()``, so memory stays flat
however long the input is (the vocab's new strings are freed after every window).

Worker processes are forked (spaCy's default on Linux). A pipeline that runs torch (a
transformer, an LLM) has an OpenMP thread pool in the parent that does not survive
``fork()``: the workers' first multi-threaded operation waits forever. So when torch is
loaded, the workers are set to ``cores // n_process`` threads as they start
(:func:`torch_threads_after_fork`), which also keeps them from oversubscribing the cores.
"""

import logging
import os
import sys
from collections import Counter
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Protocol, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import raise_error

logger = logging.getLogger(__name__)

Item = Tuple[int, str]
Result = Tuple[int, Optional[Doc], Optional[str]]


class Engine(Protocol):
    """What the runner needs from an engine."""

    #: spaCy Language whose vocab the Docs use (also used for the DocBin output).
    nlp: Language

    def run(self, items: Iterable[Item]) -> Iterator[Result]:
        """One result per item, in the order of ``items``; a Doc is valid until the next result."""

    def stats(self) -> Dict[str, int]:
        """Counters for the run summary (retries, timeouts, ...)."""

    def close(self) -> None:
        """Release workers, connections."""


def describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[-1] if text else ''}".rstrip(": ")


class _BatchDropper:
    """Error handler: drop the failing batch (noted by context) unless raising is switched on."""

    def __init__(self):
        self.raising = False
        self.dropped = 0

    def __call__(self, proc_name: Optional[str], proc: Any, docs: Optional[Sequence[Doc]], err: Exception):
        if self.raising:
            raise err
        self.dropped += 1
        logger.debug("%s: a batch of %s docs failed (%s); retrying them one by one",
                     proc_name, len(docs) if docs else "?", describe(err))


def backend_stats(nlp: Language) -> Dict[str, Dict[str, int]]:
    """Per LLM component (spacy-llm ``llm`` whose model counts them: our backends):
    prompts, requests, retries (timeouts included), failures, cache hits, tokens. Counted
    in this process (LLM pipelines run in one process; a served engine uses threads)."""
    out = {}
    for name, pipe in nlp.pipeline:
        stats = getattr(getattr(pipe, "_model", None), "stats", None)
        if isinstance(stats, dict):
            out[name] = dict(stats)
    return out


def _set_error_handler(nlp: Language, handler: Callable) -> None:
    """``nlp.set_error_handler`` for the pipes that take one: spaCy 3.8's ``ner`` cannot
    (a Cython class without a ``__dict__``); its failures break the stream instead, which
    :meth:`SpacyEngine._run_window` handles too."""
    nlp.default_error_handler = handler
    for _, pipe in nlp.pipeline:
        if hasattr(pipe, "set_error_handler"):
            try:
                pipe.set_error_handler(handler)
            except AttributeError:
                pass


_CHILD_THREADS: Optional[int] = None


def _set_child_threads() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and _CHILD_THREADS is not None:
        torch.set_num_threads(_CHILD_THREADS)


def torch_threads_after_fork(n_process: int) -> Optional[int]:
    """Forked workers of a process that loaded torch start with ``cores // n_process``
    threads (at least 1); returns that number, or None when torch is not loaded (then
    the workers import it themselves and nothing is inherited)."""
    global _CHILD_THREADS
    if "torch" not in sys.modules:
        return None
    from ..models.precision import usable_cores

    if _CHILD_THREADS is None:
        os.register_at_fork(after_in_child=_set_child_threads)
    _CHILD_THREADS = max(1, usable_cores() // max(1, n_process))
    return _CHILD_THREADS


class SpacyEngine:
    """A spaCy pipeline run in-process; ``n_process > 1`` uses spaCy's worker processes."""

    def __init__(self, nlp: Language, *, batch_size: int = 64, n_process: int = 1,
                 window: int = 2000, window_chars: int = 4_000_000):
        if batch_size < 1 or n_process < 1 or window < 1:
            raise ValueError("batch_size, n_process and window must be >= 1")
        self.nlp = nlp
        self.batch_size = batch_size
        self.n_process = n_process
        if n_process > 1:
            threads = torch_threads_after_fork(n_process)
            if threads is not None:
                logger.info("torch is loaded: each of the %d worker processes uses %d thread(s)", n_process, threads)
        self.window = window
        self.window_chars = window_chars
        self.counts: Counter = Counter()
        self._handler = _BatchDropper()
        _set_error_handler(nlp, self._handler)

    def check(self, text: str) -> Optional[str]:
        """Why ``text`` cannot go through the pipeline at all (None if it can)."""
        if len(text) > self.nlp.max_length:
            return (f"the text has {len(text):,} characters, more than the pipeline's max_length "
                    f"({self.nlp.max_length:,}); raise it with --max-length if memory allows")
        return None

    def _one(self, seq: int, text: str) -> Result:
        self.counts["retried_one_by_one"] += 1
        self._handler.raising = True
        try:
            return seq, self.nlp(text), None
        except Exception as err:  # the document's own failure: reported, the run goes on
            return seq, None, describe(err)
        finally:
            self._handler.raising = False

    def _windows(self, items: Iterable[Item]) -> Iterator[List[Item]]:
        window: List[Item] = []
        chars = 0
        for item in items:
            window.append(item)
            chars += len(item[1])
            if len(window) >= self.window or chars >= self.window_chars:
                yield window
                window, chars = [], 0
        if window:
            yield window

    def _run_window(self, items: List[Item]) -> Iterator[Result]:
        problems: List[Result] = []
        todo: List[Item] = []
        for seq, text in items:
            problem = self.check(text)
            if problem:
                problems.append((seq, None, problem))
            else:
                todo.append((seq, text))
        for result in self._annotate(todo):  # problems go in their place in the order
            while problems and problems[0][0] < result[0]:
                yield problems.pop(0)
            yield result
        yield from problems

    def _annotate(self, todo: List[Item]) -> Iterator[Result]:
        while todo:
            done = 0
            n_process = self.n_process if len(todo) > self.batch_size else 1
            stream = self.nlp.pipe(((text, seq) for seq, text in todo), as_tuples=True,
                                   batch_size=self.batch_size, n_process=n_process)
            try:
                for doc, seq in stream:
                    while todo[done][0] != seq:  # dropped by the error handler
                        yield self._one(*todo[done])
                        done += 1
                    yield seq, doc, None
                    done += 1
            except Exception as err:  # the stream broke off: isolate the next batch, go on
                self.counts["pipe_restarts"] += 1
                logger.warning("the pipeline stream failed (%s); running %d documents one by one",
                               describe(err), min(self.batch_size, len(todo) - done))
                for seq, text in todo[done:done + self.batch_size]:
                    yield self._one(seq, text)
                done = min(done + self.batch_size, len(todo))
            else:
                for seq, text in todo[done:]:  # dropped at the end of the stream
                    yield self._one(seq, text)
                done = len(todo)
            todo = todo[done:]

    def run(self, items: Iterable[Item]) -> Iterator[Result]:
        for window in self._windows(items):
            with self.nlp.memory_zone():
                yield from self._run_window(window)

    def stats(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"batches_dropped": self._handler.dropped, **self.counts}
        backends = backend_stats(self.nlp)
        if backends:
            out["llm"] = backends
        return out

    def close(self) -> None:
        _set_error_handler(self.nlp, raise_error)


#: Engine name -> factory(nlp, **options). The served LLM engine registers here.
ENGINES: Dict[str, Callable[..., Engine]] = {"spacy": SpacyEngine}
