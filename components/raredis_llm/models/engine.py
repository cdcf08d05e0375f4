"""What every model runner (engine) offers, whatever runs the model.

An engine loads its model lazily and once, counts tokens, and greedily completes
prompts with a token budget each, stop strings and an optional :class:`Constraint`.
Engines: :mod:`.transformers_engine` (in-process ``transformers``: CUDA and the
reference), :mod:`.llamacpp_engine` (in-process llama.cpp on a GGUF model),
:mod:`.openai_engine` (any OpenAI-compatible server: vLLM, llama.cpp's server, ...).
The spacy-llm backends, the ``raredis_llm_ner`` component and training-time validation
all generate through one of them.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .completion import Completion

OnResult = Callable[[int, Completion], None]


class EngineError(RuntimeError):
    """A prompt could not be answered (the message says which, where and why)."""


class EngineFailure(EngineError):
    """Prompt ``index`` failed after its retries (``n_done`` others were answered)."""

    def __init__(self, index: int, reason: str, n_failed: int = 1, n_done: int = 0):
        super().__init__(reason)
        self.index, self.reason, self.n_failed, self.n_done = index, reason, n_failed, n_done


@dataclass(frozen=True)
class Constraint:
    """Constrained decoding: the answer may only use tokens that spell pieces of
    ``texts`` (the input it annotates) or of ``glue`` (the answer format's tags and
    separators), tokens joining the two, and end-of-sequence."""

    texts: Tuple[str, ...]
    glue: Tuple[str, ...] = ()


class Engine:
    """Base class: subclasses set ``kind`` and implement the methods below."""

    kind: str = ""
    #: whether :meth:`generate` applies constraints (others ignore them)
    supports_constraint: bool = False

    @property
    def model_id(self) -> str:
        """Identifies the model and its weights (response-cache keys, metadata)."""
        raise NotImplementedError

    def settings(self) -> Dict[str, Any]:
        """Settings that change the answers (part of response-cache keys)."""
        return {"engine": self.kind}

    @property
    def context_length(self) -> Optional[int]:
        return None

    def count_tokens(self, text: str) -> int:
        raise NotImplementedError

    def allowed_ids(self, constraint: "Constraint") -> List[int]:
        """Token ids a constraint allows (engines that support constraints)."""
        raise NotImplementedError(f"the {self.kind} engine applies no constraints")

    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: Sequence[int],
        stop: Sequence[str] = (),
        constraints: Optional[Sequence[Optional[Constraint]]] = None,
        on_result: Optional[OnResult] = None,
    ) -> List[Completion]:
        """Greedy completions in input order; ``on_result(i, completion)`` is called as
        each one is ready (so a caller can store it before the others finish)."""
        raise NotImplementedError

    def close(self) -> None:
        """Free the model (a later call loads it again)."""


def check_requests(prompts: Sequence[str], max_new_tokens: Sequence[int],
                   constraints: Optional[Sequence[Optional[Constraint]]]) -> List[Optional[Constraint]]:
    if len(max_new_tokens) != len(prompts):
        raise ValueError(f"{len(max_new_tokens)} budgets for {len(prompts)} prompts")
    if constraints is None:
        return [None] * len(prompts)
    if len(constraints) != len(prompts):
        raise ValueError(f"{len(constraints)} constraints for {len(prompts)} prompts")
    return list(constraints)


def cut_at_stop(text: str, stop: Sequence[str]) -> Tuple[str, bool]:
    """``text`` up to the first stop string (not included), and whether one was found."""
    cut = len(text)
    for s in stop:
        pos = text.find(s) if s else -1
        if pos != -1:
            cut = min(cut, pos)
    return text[:cut], cut < len(text)
