"""Sub-tokens of the LLM tokenizer <-> words (spaCy tokens) of a Doc.

The tagger labels words: a Doc's own tokens, so every predicted entity is a token span
with exact character offsets. The text is tokenized once by the LLM tokenizer with
character offsets; a sub-token's offsets are taken without the leading whitespace that
SentencePiece folds into it (``"▁disease"`` covers ``"disease"``). A word is represented
by the first or the last sub-token that overlaps it (``word_piece``); a sub-token that
runs over two words serves both; whitespace words have none (index -1).

An optional context (e.g. the document's first sentence) is tokenized on its own and
put between BOS and the text, followed by a separator; its sub-tokens carry no label.
"""

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from .tags import IGNORE

WORD_PIECES = ("first", "last")
CONTEXT_SEPARATOR = "\n\n"


@dataclass
class Encoded:
    input_ids: List[int]
    #: per word: index (into input_ids) of its representative sub-token, -1 for none
    word_index: List[int]
    #: per sub-token: the word it starts in (-1: BOS, context, separator, whitespace)
    piece_word: List[int] = field(default_factory=list)
    n_prefix: int = 0

    def __len__(self) -> int:
        return len(self.input_ids)


def piece_spans(text: str, offsets: Sequence[Tuple[int, int]]) -> List[Optional[Tuple[int, int]]]:
    """Offsets of each sub-token without leading whitespace (None: whitespace only)."""
    out: List[Optional[Tuple[int, int]]] = []
    for s, e in offsets:
        while s < e and text[s].isspace():
            s += 1
        out.append((s, e) if e > s else None)
    return out


def align_words(
    text: str,
    words: Sequence[Tuple[int, int]],
    offsets: Sequence[Tuple[int, int]],
    word_piece: str = "first",
) -> Tuple[List[int], List[int]]:
    """``(word_to_piece, piece_to_word)`` for ``words`` (character spans) and sub-token
    ``offsets`` of ``text``. ``word_to_piece[i]`` is the first/last sub-token overlapping
    word i (-1 if none); ``piece_to_word[j]`` the word sub-token j starts in (-1 if none)."""
    if word_piece not in WORD_PIECES:
        raise ValueError(f"word_piece must be one of {WORD_PIECES}, not {word_piece!r}")
    owner = [-1] * (len(text) + 1)
    spans = piece_spans(text, offsets)
    for j, span in enumerate(spans):
        if span is not None:
            for c in range(span[0], span[1]):
                owner[c] = j
    word_of_char = [-1] * (len(text) + 1)
    for i, (s, e) in enumerate(words):
        for c in range(s, e):
            word_of_char[c] = i
    word_to_piece: List[int] = []
    for s, e in words:
        pieces = [owner[c] for c in range(s, e) if owner[c] >= 0 and not text[c].isspace()]
        if not pieces:
            word_to_piece.append(-1)
        else:
            word_to_piece.append(min(pieces) if word_piece == "first" else max(pieces))
    piece_to_word = [word_of_char[span[0]] if span is not None else -1 for span in spans]
    return word_to_piece, piece_to_word


class Encoder:
    """Tokenizes ``(text, words, context)`` into model inputs (see the module docstring)."""

    def __init__(self, tokenizer, word_piece: str = "first", max_length: int = 512):
        if word_piece not in WORD_PIECES:
            raise ValueError(f"word_piece must be one of {WORD_PIECES}, not {word_piece!r}")
        self.tokenizer = tokenizer
        self.word_piece = word_piece
        self.max_length = max_length
        self.bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
        self.separator = tokenizer(CONTEXT_SEPARATOR, add_special_tokens=False)["input_ids"]

    def encode(self, text: str, words: Sequence[Tuple[int, int]], context: Optional[str] = None) -> Encoded:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        prefix = list(self.bos)
        if context:
            ctx = self.tokenizer(context, add_special_tokens=False)["input_ids"]
            # the context gives way first when the whole does not fit
            room = self.max_length - len(prefix) - len(self.separator) - len(ids)
            if room > 0:
                prefix += ctx[:room] + self.separator
        if len(prefix) + len(ids) > self.max_length:
            raise ValueError(f"Text of {len(ids)} sub-tokens does not fit max_length={self.max_length}: "
                             f"{text[:60]!r}...")
        word_to_piece, piece_to_word = align_words(text, words, offsets, self.word_piece)
        n = len(prefix)
        return Encoded(
            input_ids=prefix + list(ids),
            word_index=[j + n if j >= 0 else -1 for j in word_to_piece],
            piece_word=[-1] * n + piece_to_word,
            n_prefix=n,
        )


def piece_labels(encoded: Encoded, word_tags: Sequence[int], tags) -> List[int]:
    """Labels for every sub-token (the ``"all"`` sub-token labelling): a word's first
    sub-token gets the word's tag, its later sub-tokens ``I-X`` inside an entity and
    ``O`` outside; context, BOS and words without a gold tag are IGNORE."""
    out = [IGNORE] * len(encoded.input_ids)
    seen = set()
    for j, w in enumerate(encoded.piece_word):
        if w < 0 or word_tags[w] == IGNORE:
            continue
        tag = word_tags[w]
        if w not in seen:
            out[j] = tag
            seen.add(w)
        else:
            name = tags.tags[tag]
            out[j] = tags.index["I-" + name[2:]] if name != "O" else 0
    return out
