"""seqeval in strict mode (IOB2): entity-level P/R/F per type, micro and macro.

Inputs are IOB2 tag sequences on the gold tokenization (see ``spans.project``), so a
predicted entity counts as correct only if its first and last gold token and its
type are all right. ``macro`` is seqeval's own "macro avg": the unweighted mean over
every type that occurs in gold or predictions.
"""

import math
import warnings
from typing import Dict, List, Sequence

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2


def _prf(row: dict) -> Dict[str, float]:
    def num(x) -> float:
        x = float(x)
        return 0.0 if math.isnan(x) else x

    return {"p": num(row["precision"]), "r": num(row["recall"]), "f": num(row["f1-score"]),
            "support": int(row["support"])}


def seqeval_scores(y_true: Sequence[List[str]], y_pred: Sequence[List[str]]) -> dict:
    """``{"micro": {p, r, f, support}, "macro": {...}, "per_type": {label: {...}}}``.

    ``support`` is the number of gold entities. With no entity at all on either side
    every score is 0.
    """
    if len(y_true) != len(y_pred) or any(len(t) != len(p) for t, p in zip(y_true, y_pred)):
        raise ValueError("seqeval inputs must have the same number of sequences and tags")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Mean of empty slice" when nothing is tagged
        report = classification_report(
            list(y_true), list(y_pred), mode="strict", scheme=IOB2, output_dict=True, zero_division=0
        )
    per_type = {k: _prf(v) for k, v in report.items() if not k.endswith(" avg")}
    return {
        "micro": _prf(report["micro avg"]),
        "macro": _prf(report["macro avg"]),
        "per_type": dict(sorted(per_type.items())),
    }
