"""Exact-span precision/recall/F1 over ``(start, end, label)`` character spans.

Equal to spaCy's ``get_ner_prf`` when the spans are token-aligned (as the corpus spans
are); used during training, where the gold comes from the instruction records.
"""

from collections import defaultdict
from typing import Dict, Iterable, Sequence, Tuple

Span3 = Tuple[int, int, str]


def _prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f}


def span_prf(preds: Sequence[Iterable[Span3]], golds: Sequence[Iterable[Span3]]) -> Dict[str, object]:
    """Micro P/R/F and per-label P/R/F; ``preds[i]``/``golds[i]`` belong to text ``i``."""
    if len(preds) != len(golds):
        raise ValueError(f"{len(preds)} predictions for {len(golds)} gold texts")
    tp = n_pred = n_gold = 0
    per: Dict[str, list] = defaultdict(lambda: [0, 0, 0])
    for pred, gold in zip(preds, golds):
        pred_set, gold_set = set(map(tuple, pred)), set(map(tuple, gold))
        hit = pred_set & gold_set
        tp, n_pred, n_gold = tp + len(hit), n_pred + len(pred_set), n_gold + len(gold_set)
        for s in pred_set:
            per[s[2]][1] += 1
        for s in gold_set:
            per[s[2]][2] += 1
        for s in hit:
            per[s[2]][0] += 1
    out: Dict[str, object] = dict(_prf(tp, n_pred, n_gold))
    out.update({"tp": tp, "n_pred": n_pred, "n_gold": n_gold})
    out["per_label"] = {label: _prf(*counts) for label, counts in sorted(per.items())}
    return out
