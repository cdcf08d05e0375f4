"""Generation budgets sized to the sentence being tagged, not to the whole prompt.

A prompt is mostly instructions and examples; what bounds the answer is the input
text. :class:`Prompt` is the prompt string with the text its answer is about attached
(``answer_reference``: what a complete answer with no entities looks like in the
chosen output format: the sentence for ``inline``, one ``token O`` line per token for
``bio``, the sentence itself for ``json`` since mentions cannot add up to more). A
backend counts that reference in its own tokens and allows::

    budget = ceil(ANSWER_RATIO * reference tokens) + ANSWER_EXTRA

With Gemma's tokenizer the gold answers of all 5,661 RareDis training sentences fit
this budget except 3 (inline), 11 (json) and 0 (bio), while a short sentence does not
get a long one's budget (mean 96 tokens for inline; ``tests/llm/test_budget.py``). A plain ``str`` prompt has no reference and keeps the backend's fixed budget.
"""

import math
from typing import Any, Callable, Optional

#: Multiplier on the reference's token count (tags, label names, quoting).
ANSWER_RATIO = 2.0
#: Tokens added to every budget (closing tags, a trailing newline, JSON brackets).
ANSWER_EXTRA = 48
#: Written into the response cache key, so a change of rule is a cache miss.
RULE = f"{ANSWER_RATIO}x+{ANSWER_EXTRA}"


class Prompt(str):
    """A prompt (``str``) that also carries ``answer_reference`` (see the module doc)."""

    answer_reference: Optional[str]

    def __new__(cls, text: str, answer_reference: Optional[str] = None) -> "Prompt":
        obj = super().__new__(cls, text)
        obj.answer_reference = answer_reference
        return obj

    def __reduce__(self):
        return (Prompt, (str.__str__(self), self.answer_reference))


def reference_of(prompt: Any) -> Optional[str]:
    return getattr(prompt, "answer_reference", None)


def answer_budget(prompt: Any, count_tokens: Callable[[str], int], cap: Optional[int] = None) -> Optional[int]:
    """Token budget for ``prompt``'s answer, or None when it carries no reference."""
    reference = reference_of(prompt)
    if reference is None:
        return None
    budget = int(math.ceil(ANSWER_RATIO * count_tokens(reference))) + ANSWER_EXTRA
    return max(1, min(budget, cap) if cap else budget)


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` for a backend that cannot tokenize locally (a remote API).

    BPE vocabularies of current LLMs average 3.5-4.5 characters per English token and
    fewer on rare medical words; one token per 3 UTF-8 bytes errs on the generous side.
    """
    return int(math.ceil(len(text.encode("utf8")) / 3))
