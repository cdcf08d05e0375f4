"""Document-level mention sets per type (Xi et al. 2025; Shyr et al. 2024).

Gold and predicted mentions are compared as strings, per document and type: lowercased,
whitespace collapsed, de-duplicated within the document. Offsets are ignored, so a
mention found once counts for all its repeats, and a repeat found twice counts once.
Sentences are grouped into documents by their document id (``schema.DOC_ID``); a
sentence without one is its own document.
"""

from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..labels import map_label

#: ``{label: [mention, ...]}`` of one sentence (5-type labels, normalised, sorted, unique)
Mentions = Dict[str, List[str]]


def normalize(text: str) -> str:
    return " ".join(text.lower().split())


def mentions(ents: Iterable[Tuple[str, str]]) -> Mentions:
    """``[(text, label)]`` -> ``{label: sorted unique normalised mentions}``."""
    out: Dict[str, set] = {}
    for text, label in ents:
        norm = normalize(text)
        if norm:
            out.setdefault(label, set()).add(norm)
    return {label: sorted(v) for label, v in sorted(out.items())}


def doc_ents_mentions(doc) -> Mentions:
    return mentions((e.text, e.label_) for e in doc.ents)


def group_keys(doc_ids: Sequence[Optional[str]]) -> List[str]:
    """The document of each sentence (``#i`` for a sentence without an id)."""
    return [str(d) if d is not None else f"#{i}" for i, d in enumerate(doc_ids)]


def mention_types(rows: Iterable[Mentions], view: str) -> set:
    return {map_label(label, view) for row in rows for label in row}


def doc_counts(
    doc_ids: Sequence[Optional[str]],
    gold: Sequence[Mentions],
    pred: Sequence[Mentions],
    types: Sequence[str],
    view: str = "5type",
) -> Tuple[List[str], np.ndarray]:
    """Per document ``(documents, types, 3)`` tp/fp/fn of the mention sets, labels mapped
    to ``view``; returns ``(document keys in first-seen order, counts)``."""
    if not len(doc_ids) == len(gold) == len(pred):
        raise ValueError(f"{len(doc_ids)} document ids for {len(gold)} gold and {len(pred)} predicted rows")
    index = {t: i for i, t in enumerate(types)}
    sets: "OrderedDict[str, Tuple[Dict[str, set], Dict[str, set]]]" = OrderedDict()
    for key, g, p in zip(group_keys(doc_ids), gold, pred):
        gs, ps = sets.setdefault(key, ({}, {}))
        for side, row in ((gs, g), (ps, p)):
            for label, texts in row.items():
                side.setdefault(map_label(label, view), set()).update(texts)
    out = np.zeros((len(sets), len(types), 3), dtype=np.int64)
    for n, (gs, ps) in enumerate(sets.values()):
        for label in set(gs) | set(ps):
            if label not in index:
                raise ValueError(f"entity type {label!r} is not among the counted types {list(types)}")
            g, p = gs.get(label, set()), ps.get(label, set())
            out[n, index[label]] = (len(g & p), len(p - g), len(g - p))
    return list(sets), out
