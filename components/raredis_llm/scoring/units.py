"""The per-sentence record of a metrics file, and the three metric views it supports.

``evaluate`` stores, for every scored sentence, its id (document id and sentence index),
its tp/fp/fn per type in the two seqeval modes, and its gold and predicted mentions. From
that record the report computes intervals (resampling sentences, or documents for the
document-level view) and paired comparisons on the sentences two systems share, without
running any system again.
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from spacy.tokens import Doc

from ..corpus import schema
from .doc_level import Mentions, doc_counts, mention_types

#: metric view -> (short name, what it is). The same keys name the scores in a metrics file.
METRICS: Dict[str, Tuple[str, str]] = {
    "strict": ("strict span", "seqeval strict mode, IOB2, on the gold tokens (the headline)"),
    "default": ("seqeval default", "seqeval default mode, conlleval-style chunks (as Lu et al. 2024)"),
    "doc": ("document level", "mention sets per document and type, lowercased and de-duplicated, "
                              "no offsets (as Xi et al. 2025 and Shyr et al. 2024)"),
}
#: where each metric view's scores live in ``metrics["views"][view]``
SCORE_KEYS: Dict[str, str] = {"strict": "seqeval", "default": "seqeval_default", "doc": "doc_level"}
#: metric views counted per sentence (the document-level view is recomputed from mentions)
SENTENCE_METRICS = ("strict", "default")


def sentence_key(doc: Doc, index: Optional[int]) -> str:
    """``<document id>:<sentence index>``, or ``#<corpus index>`` for a Doc without an id."""
    doc_id = doc.user_data.get(schema.DOC_ID)
    if doc_id is not None:
        sent = doc.user_data.get(schema.SENT_INDEX)
        return f"{doc_id}:{sent if sent is not None else -1}"
    return f"#{index}"


def build_units(
    keys: Sequence[str],
    doc_ids: Sequence[Optional[str]],
    counts: Dict[str, Dict[str, Tuple[Sequence[str], np.ndarray]]],
    gold_mentions: Sequence[Mentions],
    pred_mentions: Sequence[Mentions],
) -> dict:
    """The JSON form: ``counts[metric][view] = {"types", "rows"}``, one row of
    ``tp, fp, fn`` per type for each sentence."""
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if list(keys).count(k) > 1)
        raise ValueError(f"sentence id {dup!r} occurs twice among the scored Docs")
    return {
        "keys": list(keys),
        "doc_ids": list(doc_ids),
        "counts": {metric: {view: {"types": list(types), "rows": arr.reshape(len(arr), -1).tolist()}
                            for view, (types, arr) in per_view.items()}
                   for metric, per_view in counts.items()},
        "mentions": {"gold": list(gold_mentions), "pred": list(pred_mentions)},
    }


def _align(types: Sequence[str], arr: np.ndarray, target: Sequence[str]) -> np.ndarray:
    out = np.zeros((arr.shape[0], len(target), 3), dtype=arr.dtype)
    pos = {t: i for i, t in enumerate(target)}
    for i, t in enumerate(types):
        if t not in pos:
            raise ValueError(f"type {t!r} missing from {list(target)}")
        out[:, pos[t]] = arr[:, i]
    return out


@dataclass
class Units:
    """A metrics file's per-sentence record, ready for resampling."""

    system: str
    keys: List[str]
    doc_ids: List[Optional[str]]
    counts: Dict[Tuple[str, str], Tuple[List[str], np.ndarray]] = field(default_factory=dict)
    gold: List[Mentions] = field(default_factory=list)
    pred: List[Mentions] = field(default_factory=list)

    @classmethod
    def from_metrics(cls, metrics: dict) -> Optional["Units"]:
        """None for a metrics file written before the record existed."""
        data = metrics.get("units")
        if not data:
            return None
        counts = {}
        for metric, per_view in data["counts"].items():
            for view, rec in per_view.items():
                types = list(rec["types"])
                arr = np.asarray(rec["rows"], dtype=np.int64).reshape(len(rec["rows"]), len(types), 3)
                counts[(metric, view)] = (types, arr)
        return cls(metrics["system"], list(data["keys"]), list(data["doc_ids"]), counts,
                   list(data["mentions"]["gold"]), list(data["mentions"]["pred"]))

    def __len__(self) -> int:
        return len(self.keys)

    def types(self, metric: str, view: str) -> List[str]:
        if metric == "doc":
            return sorted(mention_types(self.gold, view) | mention_types(self.pred, view))
        return list(self.counts[(metric, view)][0])

    def unit_counts(
        self, metric: str, view: str, keys: Optional[Sequence[str]] = None, types: Optional[Sequence[str]] = None
    ) -> Tuple[List[str], List[str], np.ndarray]:
        """``(unit keys, types, (units, types, 3) counts)`` on the sentences ``keys`` (default:
        all, in this file's order). Units are sentences, or documents for ``metric="doc"``."""
        rows = list(range(len(self.keys))) if keys is None else [self.index[k] for k in keys]
        types = list(types) if types is not None else self.types(metric, view)
        if metric == "doc":
            units, arr = doc_counts([self.doc_ids[i] for i in rows], [self.gold[i] for i in rows],
                                    [self.pred[i] for i in rows], types, view)
            return units, types, arr
        own_types, arr = self.counts[(metric, view)]
        return [self.keys[i] for i in rows], types, _align(own_types, arr[rows], types)

    @cached_property
    def index(self) -> Dict[str, int]:
        return {k: i for i, k in enumerate(self.keys)}


def shared_keys(a: Units, b: Units) -> List[str]:
    """Sentences both systems scored, in ``a``'s order."""
    other = set(b.keys)
    return [k for k in a.keys if k in other]
