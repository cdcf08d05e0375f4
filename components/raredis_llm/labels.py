"""Entity labels of the RareDis corpus and the two evaluation views."""

from typing import Dict, Iterable, Optional, Tuple

#: The five NER targets, most specific disease type first.
LABELS: Tuple[str, ...] = ("RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM")
#: Annotated in RareDis but not an NER target (kept in ``doc.spans``).
NON_TARGET_LABELS: Tuple[str, ...] = ("ANAPHOR",)
ALL_LABELS: Tuple[str, ...] = LABELS + NON_TARGET_LABELS
#: The 4-type view used by most published work: SKINRAREDISEASE merged into RAREDISEASE.
MERGE_MAP: Dict[str, str] = {"SKINRAREDISEASE": "RAREDISEASE"}
LABELS_MERGED: Tuple[str, ...] = tuple(l for l in LABELS if l not in MERGE_MAP)

#: Name of each evaluation view -> label mapping applied to gold and predictions.
VIEWS: Dict[str, Dict[str, str]] = {"5type": {}, "4type": dict(MERGE_MAP)}

#: When two annotations cover exactly the same characters with different types, the
#: earlier label in this order wins the ``doc.ents`` slot (most specific first).
LABEL_PRIORITY: Dict[str, int] = {label: i for i, label in enumerate(ALL_LABELS)}


def map_label(label: str, view: str = "5type") -> str:
    """Return the label as seen in an evaluation view ("5type" or "4type")."""
    return VIEWS[view].get(label, label)


def labels_for(view: str = "5type", labels: Optional[Iterable[str]] = None) -> Tuple[str, ...]:
    """Target labels in a view, in canonical order, without duplicates."""
    out = []
    for label in labels if labels is not None else LABELS:
        mapped = map_label(label, view)
        if mapped not in out:
            out.append(mapped)
    return tuple(out)
