"""seqeval's two modes on IOB2 tag sequences, counted per sentence.

``strict`` (seqeval ``mode="strict", scheme=IOB2``, the harness's headline): an entity is
a well-formed ``B- I-*`` chunk; a chunk starting with ``I-`` is no entity. ``default``
(seqeval's default, conlleval-style; Lu et al. 2024 score with it): ``I-`` after ``O`` or
after another type starts a chunk. For tags made from non-overlapping spans the two agree;
they differ on ill-formed tag sequences, e.g. a token/tag file of an outside system.

Entities are extracted with seqeval itself; the counts per sentence and type (tp, fp, fn)
are what ``counts.py`` turns into scores and the bootstrap resamples.
"""

from typing import Iterable, List, Sequence, Set, Tuple

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Entities

from .counts import summary

MODES = ("strict", "default")


def tag_entities(tags: Sequence[str], mode: str = "strict") -> Set[Tuple[str, int, int]]:
    """``{(type, start, end)}`` (token offsets, end exclusive) of one tag sequence."""
    if mode == "strict":
        return {(e.tag, e.start, e.end) for e in Entities([list(tags)], IOB2).entities[0]}
    if mode == "default":
        return {(label, start, end + 1) for label, start, end in get_entities(list(tags))}
    raise ValueError(f"seqeval mode must be one of {MODES}, not {mode!r}")


def tag_types(y: Iterable[Sequence[str]]) -> Set[str]:
    """Entity types named in tag sequences (``B-X``/``I-X`` -> ``X``)."""
    return {t.split("-", 1)[1] for seq in y for t in seq if "-" in t}


def check_sequences(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> None:
    if len(y_true) != len(y_pred) or any(len(t) != len(p) for t, p in zip(y_true, y_pred)):
        raise ValueError("seqeval inputs must have the same number of sequences and tags")


def sentence_counts(
    y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]], types: Sequence[str], mode: str = "strict"
) -> np.ndarray:
    """``(sentences, types, 3)`` tp/fp/fn of each sentence; types not in ``types`` are an error."""
    check_sequences(y_true, y_pred)
    index = {t: i for i, t in enumerate(types)}
    out = np.zeros((len(y_true), len(types), 3), dtype=np.int64)
    for n, (t, p) in enumerate(zip(y_true, y_pred)):
        gold, pred = tag_entities(t, mode), tag_entities(p, mode)
        for cls, ents in ((0, gold & pred), (1, pred - gold), (2, gold - pred)):
            for label, _, _ in ents:
                if label not in index:
                    raise ValueError(f"entity type {label!r} is not among the counted types {list(types)}")
                out[n, index[label], cls] += 1
    return out


def seqeval_scores(y_true: Sequence[List[str]], y_pred: Sequence[List[str]], mode: str = "strict") -> dict:
    """``{"micro": {p, r, f, support}, "macro": {...}, "per_type": {label: {...}}}``.

    ``support`` is the number of gold entities. With no entity at all on either side
    every score is 0.
    """
    types = sorted(tag_types(y_true) | tag_types(y_pred))
    return summary(sentence_counts(y_true, y_pred, types, mode).sum(axis=0), types)
