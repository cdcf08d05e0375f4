"""Which tokens of a vocabulary can spell an answer allowed by a :class:`Constraint`.

A token is allowed when its text is a substring of the input (or of a glue string),
or when it joins the end of one to the start of the other (``"▁<"``, ``">,"``, ``"▁hyp"``
after ``"SIGN: "``): answers copy the input around tags, and a tokenizer may merge
characters across that seam. End-of-sequence tokens are always allowed. The index of
seam tokens is built once per set of glue strings.
"""

from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from .engine import Constraint

#: SentencePiece's word-boundary mark, a space in the text.
_SPACE_MARK = "\u2581"


def token_surface(token: Optional[str]) -> Optional[str]:
    """The text a vocabulary entry stands for (``"▁word"`` -> ``" word"``, ``<0x0A>`` -> ``"\\n"``)."""
    if not token:
        return None
    if len(token) == 6 and token.startswith("<0x") and token.endswith(">"):
        try:
            return chr(int(token[3:5], 16))
        except ValueError:
            return token
    return token.replace(_SPACE_MARK, " ")


class AllowedTokens:
    """Maps a :class:`Constraint` to the ids of the tokens it allows."""

    def __init__(self, surfaces: Sequence[Optional[str]], always: Iterable[int] = ()):
        self.always: FrozenSet[int] = frozenset(int(i) for i in always)
        self._by_text: Dict[str, List[int]] = {}
        for i, text in enumerate(surfaces):
            if text:
                self._by_text.setdefault(text, []).append(i)
        self._max_len = max((len(t) for t in self._by_text), default=1)
        self._seams: Dict[Tuple[str, ...], Dict[str, Set[int]]] = {}

    @classmethod
    def from_tokenizer(cls, tokenizer, always: Iterable[int] = ()) -> "AllowedTokens":
        """For a Hugging Face tokenizer (ids ``0 .. len(tokenizer) - 1``)."""
        tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        return cls([token_surface(t) for t in tokens], always)

    def _seam_index(self, glue: Tuple[str, ...]) -> Dict[str, Set[int]]:
        """``{text part: token ids}`` for tokens made of a text part and a glue part."""
        index = self._seams.get(glue)
        if index is not None:
            return index
        heads = {g[:k] for g in glue for k in range(1, len(g) + 1)}
        tails = {g[-k:] for g in glue for k in range(1, len(g) + 1)}
        index = {}
        for text, ids in self._by_text.items():
            for k in range(1, len(text)):
                if text[k:] in heads:  # input text, then a glue string starts
                    index.setdefault(text[:k], set()).update(ids)
                if text[:k] in tails:  # a glue string ends, then input text
                    index.setdefault(text[k:], set()).update(ids)
        self._seams[glue] = index
        return index

    def ids(self, constraint: Constraint) -> List[int]:
        """Sorted ids of the tokens ``constraint`` allows."""
        glue = tuple(constraint.glue)
        seams = self._seam_index(glue)
        allowed: Set[int] = set(self.always)
        by_text, limit = self._by_text, self._max_len
        for piece in (*constraint.texts, *glue):
            n = len(piece)
            for i in range(n):
                for j in range(i + 1, min(n, i + limit) + 1):
                    sub = piece[i:j]
                    found = by_text.get(sub)
                    if found:
                        allowed.update(found)
                    joined = seams.get(sub)
                    if joined:
                        allowed.update(joined)
        return sorted(allowed)
