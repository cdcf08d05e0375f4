"""Projection of RareDis annotation (overlapping, nested, discontinuous) onto ``doc.ents``.

``doc.ents`` cannot hold overlapping or discontinuous spans, BRAT can. A projection is
named; each name fixes two rules (:data:`PROJECTIONS`):

* what a discontinuous entity contributes: nothing (``drop``), its first fragment in
  file order (``first``), every fragment as an entity of its own (``each``), or nothing
  while its fragments are marked *missing* for training (``missing``: spaCy neither
  rewards nor punishes a prediction there, see :func:`raredis_llm.corpus.docs.projected_ents`);
* which type a span annotated twice with different types keeps (``same_span``):
  ``specific`` (``labels.LABEL_PRIORITY``: RAREDISEASE, SKINRAREDISEASE, DISEASE, SIGN,
  SYMPTOM) or ``file_order`` (the type that appears *later* in the document's ``.ann``,
  counting each type's first line: what Lu et al.'s ``brat2iob.py`` writes, because it
  tags type by type in that order and a later type overwrites an earlier one).

``first_fragment`` is the convention of the published token-level benchmark files
(first fragment kept, one label per doubly annotated span as brat2iob picks it);
``contiguous`` is the earlier policy of this project. Then, for every projection:
ANAPHOR (and any non-target label) never enters ``doc.ents``; of two pieces on exactly
the same characters one type is kept (rule above); other overlaps keep the longer span
(ties: the earlier start), as ``spacy.util.filter_spans`` does; a loser is
``nested_in_longer`` when it lies inside the winner and ``crossing_overlap`` otherwise
(brat2iob mixes the types of nested spans token by token; a span cannot).

Every entity with no piece in ``doc.ents`` gets a reason (``schema.REASON_*``), counted
by the conversion report. The full annotation always stays in ``doc.spans`` and
``doc.user_data``, so a corpus can be re-projected without converting it again.
"""

from dataclasses import dataclass
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from ..labels import LABEL_PRIORITY, LABELS
from . import schema
from .brat import Entity


@dataclass(frozen=True)
class ProjectionPolicy:
    name: str
    #: "drop", "first", "each" or "missing" (what a discontinuous entity contributes)
    discontinuous: str
    #: "specific" or "file_order" (which type a doubly annotated span keeps)
    same_span: str
    description: str


PROJECTIONS: Dict[str, ProjectionPolicy] = {
    p.name: p
    for p in (
        ProjectionPolicy("first_fragment", "first", "file_order",
                         "Lu et al.'s brat2iob convention: the first fragment of a discontinuous entity, "
                         "a doubly annotated span keeps the type the .ann lists later"),
        ProjectionPolicy("contiguous", "drop", "specific",
                         "contiguous entities only; a doubly annotated span keeps the more specific type"),
        ProjectionPolicy("each_fragment", "each", "file_order",
                         "every fragment of a discontinuous entity as an entity (training variant)"),
        ProjectionPolicy("missing_fragments", "missing", "file_order",
                         "discontinuous entities out, their fragments' tokens missing (training variant: "
                         "neither rewarded nor punished)"),
    )
}
#: The projection of gold and training data unless a config says otherwise.
DEFAULT_PROJECTION = "first_fragment"
#: Projections a gold corpus can be scored under (the others are training variants).
GOLD_PROJECTIONS: Tuple[str, ...] = ("first_fragment", "contiguous")
SAME_SPAN_RULES = ("specific", "file_order")


class Piece(NamedTuple):
    """One contiguous piece of an entity that may enter ``doc.ents``."""

    id: str
    fragment: int  # index of the fragment in the entity's ``fragments`` (file order)
    start: int
    end: int
    label: str


def get_policy(projection: str = DEFAULT_PROJECTION, same_span: Optional[str] = None) -> ProjectionPolicy:
    """The named policy, optionally with another same-span rule."""
    if projection not in PROJECTIONS:
        raise ValueError(f"Unknown projection {projection!r}; expected one of {sorted(PROJECTIONS)}")
    policy = PROJECTIONS[projection]
    if same_span is not None and same_span != policy.same_span:
        if same_span not in SAME_SPAN_RULES:
            raise ValueError(f"Unknown same_span rule {same_span!r}; expected one of {SAME_SPAN_RULES}")
        policy = ProjectionPolicy(f"{policy.name}+{same_span}", policy.discontinuous, same_span, policy.description)
    return policy


def label_order(entities: Iterable[Entity]) -> List[str]:
    """Labels in the order of their first entity in the ``.ann`` (file order)."""
    out: List[str] = []
    for ent in entities:
        if ent.label not in out:
            out.append(ent.label)
    return out


def project_entities(
    entities: Iterable[Entity],
    target_labels: Iterable[str] = LABELS,
    projection: str = DEFAULT_PROJECTION,
    same_span: Optional[str] = None,
    order: Optional[Sequence[str]] = None,
) -> Tuple[List[Piece], Dict[str, str]]:
    """Split entities into the pieces for ``doc.ents`` (sorted) and ``{id: reason}`` for
    the entities with no piece there.

    ``order`` is the document's :func:`label_order` (needed by the ``file_order`` rule
    when ``entities`` are only part of a document); by default it is computed from
    ``entities``.
    """
    entities = list(entities)
    policy = get_policy(projection, same_span)
    targets = set(target_labels)
    if policy.same_span == "file_order":
        ranks = {label: i for i, label in enumerate(order if order is not None else label_order(entities))}
        # the type listed later wins: it sorts first
        rank = lambda label: -ranks.get(label, -1)  # noqa: E731
    else:
        rank = lambda label: LABEL_PRIORITY.get(label, 99)  # noqa: E731
    reasons: Dict[str, str] = {}
    candidates: List[Piece] = []
    for ent in entities:
        if ent.label not in targets:
            reasons[ent.id] = schema.REASON_NON_TARGET
        elif not ent.is_discontinuous:
            candidates.append(Piece(ent.id, 0, ent.start, ent.end, ent.label))
        elif policy.discontinuous == "first":
            s, e = ent.fragments[0]
            candidates.append(Piece(ent.id, 0, s, e, ent.label))
        elif policy.discontinuous == "each":
            candidates.extend(Piece(ent.id, i, s, e, ent.label) for i, (s, e) in enumerate(ent.fragments))
        else:
            reasons[ent.id] = schema.REASON_DISCONTINUOUS
    # Longest first, then earliest, then the same-span rule, then file order (stable).
    order_ = sorted(candidates, key=lambda p: (-(p.end - p.start), p.start, rank(p.label)))
    kept: List[Piece] = []
    taken: Dict[int, Piece] = {}
    lost: Dict[str, str] = {}
    for piece in order_:
        clash = next((taken[i] for i in range(piece.start, piece.end) if i in taken), None)
        if clash is None:
            kept.append(piece)
            for i in range(piece.start, piece.end):
                taken[i] = piece
            continue
        winners = {taken[i] for i in range(piece.start, piece.end) if i in taken}
        if any((w.start, w.end) == (piece.start, piece.end) for w in winners):
            reason = schema.REASON_SAME_SPAN
        elif any(w.start <= piece.start and piece.end <= w.end for w in winners):
            reason = schema.REASON_NESTED
        else:
            reason = schema.REASON_CROSSING
        lost.setdefault(piece.id, reason)
    kept_ids = {p.id for p in kept}
    reasons.update({k: v for k, v in lost.items() if k not in kept_ids})
    kept.sort(key=lambda p: (p.start, p.end))
    return kept, reasons
