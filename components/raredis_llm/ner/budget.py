"""The one generation-budget rule: an answer may use ``ratio x`` the tokens of its
reference (what a complete answer with no entity looks like in the output format: the
sentence for ``inline``, one ``token O`` line per token for ``bio``, the sentence itself
for ``json`` and ``lines``, whose mentions cannot add up to more) ``+ extra``, at most
``cap``. Prompts carry their reference (:class:`Prompt`); a prompt without one gets the
backend's fixed budget.
"""

import math
from typing import Any, Optional

from ..models.engine import Constraint

#: Multiplier on the reference's token count (tags, label names, quoting).
ANSWER_RATIO = 2.0
#: Tokens added to every budget (closing tags, a trailing newline, JSON brackets).
ANSWER_EXTRA = 48


def answer_budget(n_reference_tokens: int, ratio: float = ANSWER_RATIO, extra: int = ANSWER_EXTRA,
                  cap: Optional[int] = None) -> int:
    """New tokens an answer may use, for a reference of ``n_reference_tokens`` tokens."""
    budget = int(math.ceil(ratio * max(0, int(n_reference_tokens)))) + int(extra)
    return max(1, min(budget, int(cap)) if cap else budget)


def rule(ratio: float = ANSWER_RATIO, extra: int = ANSWER_EXTRA) -> str:
    """The rule as text, for cache keys and metadata (a change of rule is a cache miss)."""
    return f"{ratio}x+{extra}"


class Prompt(str):
    """A prompt (``str``) that also carries its ``answer_reference`` (see the module doc)
    and the :class:`~raredis_llm.models.engine.Constraint` its answer may keep to."""

    answer_reference: Optional[str]
    constraint: Optional[Constraint]

    def __new__(cls, text: str, answer_reference: Optional[str] = None,
                constraint: Optional[Constraint] = None) -> "Prompt":
        obj = super().__new__(cls, text)
        obj.answer_reference = answer_reference
        obj.constraint = constraint
        return obj

    def __reduce__(self):
        return (Prompt, (str.__str__(self), self.answer_reference, self.constraint))


def reference_of(prompt: Any) -> Optional[str]:
    return getattr(prompt, "answer_reference", None)
