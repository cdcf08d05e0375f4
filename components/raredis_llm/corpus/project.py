"""Projection of RareDis annotation (overlapping, nested, discontinuous) onto ``doc.ents``.

``doc.ents`` cannot hold overlapping or discontinuous spans, BRAT can. The policy,
applied in this order:

1. ANAPHOR (and any non-target label) never enters ``doc.ents``.
2. Discontinuous entities (several fragments) do not enter ``doc.ents``; every fragment
   stays in ``doc.spans`` and the full entity in ``doc.user_data``.
3. Among the remaining entities, two covering exactly the same characters with
   different types keep the more specific type (``labels.LABEL_PRIORITY``: RAREDISEASE,
   SKINRAREDISEASE, DISEASE, SIGN, SYMPTOM).
4. Other overlaps: the longer span wins (ties: the earlier start), as
   ``spacy.util.filter_spans`` does; a loser is ``nested_in_longer`` when it lies inside
   the winner and ``crossing_overlap`` otherwise.

Every entity left out gets a reason (``schema.REASON_*``), counted by the report.
"""

from typing import Dict, Iterable, List, Optional, Tuple

from ..labels import LABEL_PRIORITY, LABELS
from . import schema
from .brat import Entity


def project_entities(entities: Iterable[Entity], target_labels: Iterable[str] = LABELS) -> Tuple[List[Entity], Dict[str, str]]:
    """Split entities into those for ``doc.ents`` (sorted) and ``{id: reason}`` for the rest."""
    targets = set(target_labels)
    reasons: Dict[str, str] = {}
    candidates: List[Entity] = []
    for ent in entities:
        if ent.label not in targets:
            reasons[ent.id] = schema.REASON_NON_TARGET
        elif ent.is_discontinuous:
            reasons[ent.id] = schema.REASON_DISCONTINUOUS
        else:
            candidates.append(ent)
    # Longest first, then earliest, then most specific label, then file order (stable).
    order = sorted(
        candidates,
        key=lambda e: (-(e.end - e.start), e.start, LABEL_PRIORITY.get(e.label, 99)),
    )
    kept: List[Entity] = []
    taken: Dict[int, Entity] = {}
    for ent in order:
        clash: Optional[Entity] = next((taken[i] for i in range(ent.start, ent.end) if i in taken), None)
        if clash is None:
            kept.append(ent)
            for i in range(ent.start, ent.end):
                taken[i] = ent
            continue
        winners = {taken[i].id: taken[i] for i in range(ent.start, ent.end) if i in taken}
        if any((w.start, w.end) == (ent.start, ent.end) for w in winners.values()):
            reasons[ent.id] = schema.REASON_SAME_SPAN
        elif any(w.start <= ent.start and ent.end <= w.end for w in winners.values()):
            reasons[ent.id] = schema.REASON_NESTED
        else:
            reasons[ent.id] = schema.REASON_CROSSING
    kept.sort(key=lambda e: e.start)
    return kept, reasons
