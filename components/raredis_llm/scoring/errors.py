"""Error breakdown of NER predictions, as in the LLM-NER papers.

Both sides are the entities of one Doc in one view, as character spans on the gold
tokenization (predictions already projected, ``spans.project``), so ``exact`` equals
seqeval's strict true positives.

Classes
    ``exact``          pred and gold have the same span and type
    ``type``           same span, other type
    ``boundary``       overlapping, same type, different span
    ``boundary_type``  overlapping, different span and type
    ``false_negative`` gold overlapped by no prediction
    ``false_positive`` prediction overlapping no gold

Matching rule (each prediction and each gold entity is classified exactly once)
    1. exact pairs, then 2. same-span pairs (``type``);
    3. among the rest, overlapping same-type pairs (``boundary``) and then 4.
       overlapping other-type pairs (``boundary_type``) are paired greedily, the pair
       sharing most characters first (ties: earlier pred, then earlier gold);
    5. a prediction left over that still overlaps some gold entity (already paired
       with another prediction) is a ``boundary`` error if one of those has its type,
       else ``boundary_type``; its record names that gold entity with
       ``"shared": "gold"``. Symmetrically a gold entity left over that overlaps an
       already paired prediction gets ``"shared": "pred"``. Such a record classifies
       only its non-shared side;
    6. predictions left over are ``false_positive``, gold left over ``false_negative``.

Hence: predictions = every record with a pred that is not ``shared == "pred"``; gold
entities = every record with a gold that is not ``shared == "gold"``. A record's type is
its gold type, or the predicted type for a false positive.
"""

import random
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Sequence

from .spans import Ent, optional_span_dict, window

CLASSES = ("exact", "boundary", "type", "boundary_type", "false_negative", "false_positive")
ERROR_CLASSES = CLASSES[1:]


def classify(preds: Sequence[Ent], golds: Sequence[Ent]) -> List[dict]:
    """Records ``{"class", "pred": Ent|None, "gold": Ent|None, "shared": None|"pred"|"gold"}``."""
    preds = sorted(set(preds))
    golds = sorted(set(golds))
    free_p = set(range(len(preds)))
    free_g = set(range(len(golds)))
    records: List[dict] = []

    def pair(cls: str, i: int, j: int, shared: Optional[str] = None) -> None:
        records.append({"class": cls, "pred": preds[i], "gold": golds[j], "shared": shared})

    gold_by_span: Dict[tuple, List[int]] = defaultdict(list)
    for j, g in enumerate(golds):
        gold_by_span[(g.start, g.end)].append(j)
    # 1. exact, 2. same span other type
    for same_type, cls in ((True, "exact"), (False, "type")):
        for i in sorted(free_p):
            p = preds[i]
            for j in gold_by_span.get((p.start, p.end), []):
                if j in free_g and (golds[j].label == p.label) == same_type:
                    pair(cls, i, j)
                    free_p.discard(i)
                    free_g.discard(j)
                    break
    # 3. boundary, 4. boundary + type: greedy by overlap
    for same_type, cls in ((True, "boundary"), (False, "boundary_type")):
        cands = [
            (-preds[i].overlap(golds[j]), i, j)
            for i in free_p
            for j in free_g
            if preds[i].overlaps(golds[j]) and (preds[i].label == golds[j].label) == same_type
        ]
        for _, i, j in sorted(cands):
            if i in free_p and j in free_g:
                pair(cls, i, j)
                free_p.discard(i)
                free_g.discard(j)
    # 5. leftovers overlapping an already paired entity
    for i in sorted(free_p):
        hits = [j for j in range(len(golds)) if preds[i].overlaps(golds[j])]
        if hits:
            same = [j for j in hits if golds[j].label == preds[i].label]
            pool = same or hits
            j = max(pool, key=lambda j: (preds[i].overlap(golds[j]), -j))
            pair("boundary" if same else "boundary_type", i, j, shared="gold")
            free_p.discard(i)
    for j in sorted(free_g):
        hits = [i for i in range(len(preds)) if preds[i].overlaps(golds[j])]
        if hits:
            same = [i for i in hits if preds[i].label == golds[j].label]
            pool = same or hits
            i = max(pool, key=lambda i: (preds[i].overlap(golds[j]), -i))
            pair("boundary" if same else "boundary_type", i, j, shared="pred")
            free_g.discard(j)
    # 6. the rest
    for i in sorted(free_p):
        records.append({"class": "false_positive", "pred": preds[i], "gold": None, "shared": None})
    for j in sorted(free_g):
        records.append({"class": "false_negative", "pred": None, "gold": golds[j], "shared": None})
    records.sort(key=lambda r: ((r["gold"] or r["pred"]).start, CLASSES.index(r["class"])))
    return records


def record_type(record: dict) -> str:
    return (record["gold"] or record["pred"]).label


def record_context(record: dict, text: str, width: int = 60) -> str:
    """The text around a record, gold marked ``[...]/G:LABEL``, pred ``{...}/P:LABEL``."""
    marks = []
    if record["gold"] is not None:
        g = record["gold"]
        marks.append((g.start, g.end, "[", f"]/G:{g.label}"))
    if record["pred"] is not None:
        p = record["pred"]
        marks.append((p.start, p.end, "{", f"}}/P:{p.label}"))
    return window(text, marks, width)


class ErrorTally:
    """Accumulates records over Docs: counts per class and type, and samples."""

    def __init__(self, max_samples: int = 20, seed: int = 0):
        self.max_samples = max_samples
        self.counts: Dict[str, Counter] = {cls: Counter() for cls in CLASSES}
        self._seen: Counter = Counter()
        self._samples: Dict[str, list] = {cls: [] for cls in CLASSES}
        self._rng = random.Random(seed)

    def add(self, records: Sequence[dict], text: str, doc_index: int, doc_name: str) -> None:
        for rec in records:
            cls = rec["class"]
            self.counts[cls][record_type(rec)] += 1
            self._seen[cls] += 1
            # reservoir sampling: a uniform sample whatever the number of records
            slot = len(self._samples[cls]) if len(self._samples[cls]) < self.max_samples else \
                self._rng.randrange(self._seen[cls])
            if slot < self.max_samples:
                sample = {
                    "doc_index": doc_index,
                    "doc": doc_name,
                    "type": record_type(rec),
                    "gold": optional_span_dict(rec["gold"], text),
                    "pred": optional_span_dict(rec["pred"], text),
                    "shared": rec["shared"],
                    "context": record_context(rec, text),
                }
                if slot == len(self._samples[cls]):
                    self._samples[cls].append(sample)
                else:
                    self._samples[cls][slot] = sample

    def to_dict(self) -> dict:
        return {
            "counts": {
                cls: {"total": sum(c.values()), "per_type": dict(sorted(c.items()))}
                for cls, c in self.counts.items()
            },
            "samples": {
                cls: sorted(s, key=lambda x: (x["doc_index"], (x["gold"] or x["pred"])["start"]))
                for cls, s in self._samples.items()
            },
        }
