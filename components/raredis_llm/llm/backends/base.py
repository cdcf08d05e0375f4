"""What both RareDis backends share: the spacy-llm call shape, cache use, accounting.

spacy-llm (0.7) calls a model with ``Iterable[Iterable[str]]`` (the prompts of each doc,
one per shard) and expects ``Iterable[Iterable[str]]`` back in the same nesting. A
:class:`CachingBackend` flattens the prompts, answers what it can from the response
cache, hands the rest to the subclass's :meth:`_complete` in one go (so it can batch
or parallelise), stores each answer in the cache the moment it arrives, and re-nests.
"""

import logging
import threading
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..budget import RULE, reference_of
from ..cache import ResponseCache, make_key, open_cache
from ..response import Completion

logger = logging.getLogger("raredis_llm")

STAT_KEYS = (
    "prompts", "requests", "retries", "failures", "cache_hits", "cache_misses",
    "prompt_tokens", "completion_tokens", "empty_responses",
)


class LLMBackendError(RuntimeError):
    """A prompt could not be answered after all retries (message says which and where)."""


class CachingBackend:
    """Base class; subclasses set ``self.model_id`` and implement ``_complete``."""

    model_id: str = ""

    def __init__(self, cache_dir: Optional[str], context_length: Optional[int]):
        self.cache: Optional[ResponseCache] = open_cache(cache_dir)
        self._context_length = context_length
        self._stats_lock = threading.Lock()
        self.stats: Dict[str, int] = {key: 0 for key in STAT_KEYS}
        self._docs_seen = 0  # docs received over this backend's lifetime (for error messages)

    # spacy-llm protocol -------------------------------------------------------------------
    @property
    def context_length(self) -> Optional[int]:
        """Context size for sharding tasks (None: spacy-llm does not shard)."""
        return self._context_length

    def cache_settings(self) -> Dict[str, Any]:
        """Generation settings that change answers (part of the cache key)."""
        raise NotImplementedError

    def sizes_to_input(self) -> bool:
        """Whether prompts carrying an answer reference get a budget sized to it (budget.py)."""
        return False

    def _complete(self, items: Sequence[Tuple[int, int, str]], on_done) -> None:
        """Answer ``items`` (doc number, shard index, prompt); call ``on_done(pos, completion)``
        with the item's position in ``items`` as each finishes. Raise ``LLMBackendError`` at
        the end if any failed."""
        raise NotImplementedError

    def __call__(self, prompts: Iterable[Iterable[str]]) -> Iterable[Iterable[str]]:
        """spacy-llm entry point: per doc, per shard, a prompt -> a :class:`Completion`."""
        # str subclasses (budget.Prompt: the answer's reference text) are kept as they are
        nested = [[p if isinstance(p, str) else str(p) for p in doc_prompts] for doc_prompts in prompts]
        first_doc = self._docs_seen
        self._docs_seen += len(nested)
        results: List[List[Optional[Completion]]] = [[None] * len(doc) for doc in nested]
        settings = self.cache_settings()
        todo: List[Tuple[int, int, str]] = []
        keys: List[Optional[str]] = []
        for d, doc_prompts in enumerate(nested):
            for s, prompt in enumerate(doc_prompts):
                self._count("prompts")
                if self.cache is not None:
                    sized = self.sizes_to_input() and reference_of(prompt) is not None
                    key = make_key(self.model_id, prompt, dict(settings, answer_budget=RULE) if sized else settings)
                    hit = self.cache.get(key)
                    if hit is not None:
                        self._count("cache_hits")
                        results[d][s] = hit
                        continue
                    self._count("cache_misses")
                    keys.append(key)
                else:
                    keys.append(None)
                todo.append((first_doc + d, s, prompt))

        def on_done(pos: int, completion: Completion) -> None:
            doc_no, shard, prompt = todo[pos]
            results[doc_no - first_doc][shard] = completion
            self._count("prompt_tokens", completion.usage["prompt_tokens"])
            self._count("completion_tokens", completion.usage["completion_tokens"])
            if not completion.text.strip():
                self._count("empty_responses")
            if self.cache is not None and keys[pos] is not None:
                self.cache.put(keys[pos], completion, model_id=self.model_id, prompt=prompt, settings=settings)

        if todo:
            self._complete(todo, on_done)
        return results  # type: ignore[return-value]

    # accounting -----------------------------------------------------------------------------
    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] = self.stats.get(key, 0) + int(n)

    def resume_hint(self, n_done: int, n_total: int) -> str:
        if self.cache is not None:
            return (
                f"{n_done} of {n_total} prompts in this batch were answered and are stored in the "
                f"response cache {self.cache.path}; rerun the same command to resume (only missing "
                "answers are requested)."
            )
        return (
            f"{n_done} of {n_total} prompts in this batch were answered but not kept: set the "
            "model's cache_dir (e.g. cache/llm) so a rerun resumes instead of starting over."
        )


def describe_prompt(prompt: str, width: int = 80) -> str:
    flat = " ".join(prompt.split())
    return flat if len(flat) <= width else "..." + flat[-width:]
