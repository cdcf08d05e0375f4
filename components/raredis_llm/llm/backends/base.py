"""What every RareDis spacy-llm backend does around its engine: the call shape, the
response cache, budgets, constraints and accounting.

spacy-llm (0.7) calls a model with ``Iterable[Iterable[str]]`` (the prompts of each doc,
one per shard) and expects ``Iterable[Iterable[str]]`` back in the same nesting. An
:class:`EngineBackend` flattens the prompts, answers what it can from the response cache,
hands the rest to its engine (:mod:`raredis_llm.models`) in one call (so it can batch
or parallelise), stores each answer in the cache the moment it arrives, and re-nests.
Prompts from ``raredis.NER.v1`` carry their sentence, so each gets a budget sized to it
(:mod:`raredis_llm.ner.budget`) and, with ``constrain``, a decoding constraint.
"""

import logging
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ...models.completion import Completion
from ...models.engine import Engine, EngineFailure
from ...ner.budget import answer_budget, reference_of, rule
from ..cache import ResponseCache, make_key, open_cache

logger = logging.getLogger(__name__)

STAT_KEYS = ("prompts", "requests", "retries", "failures", "cache_hits", "cache_misses", "prompt_tokens",
             "completion_tokens", "empty_responses")


class LLMBackendError(RuntimeError):
    """A prompt could not be answered (the message says which doc, where and why)."""


class EngineBackend:
    """A spacy-llm model: an :class:`~raredis_llm.models.engine.Engine` plus the cache."""

    def __init__(self, engine: Engine, *, max_new_tokens: Optional[int], max_new_tokens_cap: int = 512,
                 stop: Optional[Sequence[str]] = None, constrain: bool = False,
                 cache_dir: Optional[str] = None, context_length: Optional[int] = None):
        self.engine = engine
        self.max_new_tokens = max_new_tokens
        self.max_new_tokens_cap = int(max_new_tokens_cap)
        self.stop = list(stop or [])
        self.constrain = bool(constrain)
        self.cache: Optional[ResponseCache] = open_cache(cache_dir)
        self._context_length = context_length
        self._stats_lock = threading.Lock()
        self._stats: Dict[str, int] = {key: 0 for key in STAT_KEYS}
        self._docs_seen = 0  # docs received over this backend's lifetime (for error messages)

    # spacy-llm protocol -----------------------------------------------------------------
    @property
    def context_length(self) -> Optional[int]:
        """Context size for sharding tasks (None: spacy-llm does not shard)."""
        return self._context_length

    @property
    def model_id(self) -> str:
        return self.engine.model_id

    def cache_settings(self, prompt: Any) -> Dict[str, Any]:
        """Everything besides model and prompt that changes an answer (the cache key)."""
        settings = dict(self.engine.settings(), stop=self.stop, constrain=self.constrain)
        if self.sized(prompt):
            settings.update(answer_budget=rule(), max_new_tokens_cap=self.max_new_tokens_cap)
        else:
            settings.update(max_new_tokens=self.budget(prompt))
        return settings

    def sized(self, prompt: Any) -> bool:
        """A prompt's budget is sized to its sentence when it names one and no fixed
        ``max_new_tokens`` is set."""
        return self.max_new_tokens is None and reference_of(prompt) is not None

    def budget(self, prompt: Any) -> int:
        if self.sized(prompt):
            return answer_budget(self.engine.count_tokens(reference_of(prompt)), cap=self.max_new_tokens_cap)
        return int(self.max_new_tokens or self.max_new_tokens_cap)

    def format_prompt(self, prompt: Any) -> str:
        """The text sent to the engine (subclasses wrap it in a chat template)."""
        return str(prompt)

    def __call__(self, prompts: Iterable[Iterable[str]]) -> Iterable[Iterable[str]]:
        """spacy-llm entry point: per doc, per shard, a prompt -> a :class:`Completion`."""
        nested = [list(doc_prompts) for doc_prompts in prompts]
        first_doc = self._docs_seen
        self._docs_seen += len(nested)
        results: List[List[Optional[Completion]]] = [[None] * len(doc) for doc in nested]
        todo: List[Tuple[int, int, Any]] = []
        keys: List[Optional[str]] = []
        for d, doc_prompts in enumerate(nested):
            for s, prompt in enumerate(doc_prompts):
                self._count("prompts")
                key = None
                if self.cache is not None:
                    key = make_key(self.model_id, str(prompt), self.cache_settings(prompt))
                    hit = self.cache.get(key)
                    if hit is not None:
                        self._count("cache_hits")
                        results[d][s] = hit
                        continue
                    self._count("cache_misses")
                keys.append(key)
                todo.append((d, s, prompt))
        if not todo:
            return results  # type: ignore[return-value]

        def on_result(i: int, completion: Completion) -> None:
            d, s, prompt = todo[i]
            results[d][s] = completion
            self._count("requests")
            self._count("prompt_tokens", completion.usage["prompt_tokens"])
            self._count("completion_tokens", completion.usage["completion_tokens"])
            if not completion.text.strip():
                self._count("empty_responses")
            if self.cache is not None and keys[i] is not None:
                self.cache.put(keys[i], completion, model_id=self.model_id, prompt=str(prompt),
                               settings=self.cache_settings(prompt))

        prompts_ = [p for _, _, p in todo]
        try:
            self.engine.generate(
                [self.format_prompt(p) for p in prompts_], [self.budget(p) for p in prompts_], stop=self.stop,
                constraints=[getattr(p, "constraint", None) if self.constrain else None for p in prompts_],
                on_result=on_result)
        except EngineFailure as err:
            d, s, prompt = todo[err.index]
            more = f" ({err.n_failed - 1} more prompts failed too)" if err.n_failed > 1 else ""
            raise LLMBackendError(
                f"LLM request failed for doc #{first_doc + d} (0-based, in the order docs reached this model), "
                f"shard {s}, prompt ending {describe_prompt(str(prompt))!r}: {err.reason}{more}. "
                + self.resume_hint(err.n_done, len(todo))) from None
        return results  # type: ignore[return-value]

    # accounting -------------------------------------------------------------------------
    @property
    def stats(self) -> Dict[str, int]:
        """Prompts, cache hits/misses, tokens; requests, retries and failures as the engine
        counts them when it does (HTTP attempts), else one request per answer."""
        out = dict(self._stats)
        out.update(getattr(self.engine, "stats", None) or {})
        return out

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self._stats[key] = self._stats.get(key, 0) + int(n)

    def resume_hint(self, n_done: int, n_total: int) -> str:
        if self.cache is not None:
            return (f"{n_done} of {n_total} prompts in this batch were answered and are stored in the "
                    f"response cache {self.cache.path}; rerun the same command to resume (only missing "
                    "answers are requested).")
        return (f"{n_done} of {n_total} prompts in this batch were answered but not kept: set the "
                "model's cache_dir (e.g. cache/llm) so a rerun resumes instead of starting over.")


def describe_prompt(prompt: str, width: int = 80) -> str:
    flat = " ".join(prompt.split())
    return flat if len(flat) <= width else "..." + flat[-width:]
