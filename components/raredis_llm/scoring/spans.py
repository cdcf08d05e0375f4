"""Entity spans as plain character triples, evaluation views, and projection of
predicted spans onto the gold tokenization.

Every metric of the harness is computed on the *gold* tokenization: a predicted
entity (made on whatever tokens the system used) is moved onto the gold ``Doc`` with
``gold.char_span(start, end, alignment_mode="expand")``. A prediction whose characters
are not exactly a run of gold tokens is counted as *misaligned* (it is still scored,
expanded to the enclosing gold tokens). Two predictions that end up sharing a gold
token after expansion cannot both be IOB-tagged: the longer one is kept (spaCy's
``filter_spans``), the other is counted in ``dropped_overlap``.
"""

from dataclasses import dataclass
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..corpus import schema
from ..labels import VIEWS, map_label


class Ent(NamedTuple):
    """An entity as ``(start_char, end_char, label)``."""

    start: int
    end: int
    label: str

    def overlaps(self, other: "Ent") -> bool:
        return self.start < other.end and other.start < self.end

    def overlap(self, other: "Ent") -> int:
        return max(0, min(self.end, other.end) - max(self.start, other.start))

    def to_list(self) -> list:
        return [self.start, self.end, self.label]


def check_view(view: str) -> str:
    if view not in VIEWS:
        raise ValueError(f"Unknown evaluation view {view!r}; expected one of {sorted(VIEWS)}")
    return view


def doc_ents(doc: Doc, view: str = "5type") -> List[Ent]:
    """The entities of ``doc.ents`` as character triples, labels mapped to ``view``."""
    check_view(view)
    return [Ent(e.start_char, e.end_char, map_label(e.label_, view)) for e in doc.ents]


def view_doc(doc: Doc, view: str = "5type") -> Doc:
    """A copy of ``doc`` whose ``doc.ents`` carry the labels of ``view``.

    Tokens outside entities are set to ``O`` (gold RareDis is fully annotated; spaCy's
    scorer would otherwise skip a gold Doc that has no entity at all, and with it every
    false positive predicted on it).
    """
    check_view(view)
    out = doc.copy()
    ents = [Span(out, e.start, e.end, label=map_label(e.label_, view)) for e in doc.ents]
    out.set_ents(ents, default="outside")
    return out


def doc_label(doc: Doc, index: int) -> str:
    """A short name of a Doc for messages: its RareDis id and sentence when known."""
    doc_id = doc.user_data.get(schema.DOC_ID)
    sent = doc.user_data.get(schema.SENT_INDEX)
    name = f"doc #{index}"
    if doc_id is not None:
        name += f" ({doc_id}" + (f", sentence {sent}" if sent is not None and sent >= 0 else "") + ")"
    return name


def check_pairs(pred_docs: Sequence[Doc], gold_docs: Sequence[Doc]) -> None:
    """Fail clearly when predictions and gold do not line up one to one, text for text."""
    if len(pred_docs) != len(gold_docs):
        raise ValueError(f"{len(pred_docs)} predicted Docs for {len(gold_docs)} gold Docs")
    for i, (pred, gold) in enumerate(zip(pred_docs, gold_docs)):
        if pred.text != gold.text:
            raise ValueError(
                f"Predicted text differs from gold text at {doc_label(gold, i)}: "
                f"gold {gold.text[:60]!r}..., predicted {pred.text[:60]!r}... "
                "(the pipeline must not change the text)"
            )


@dataclass
class Projection:
    """Predicted entities of one Doc moved onto the gold tokens."""

    spans: List[Span]  # on the gold Doc, non-overlapping, sorted, labels as predicted
    n_pred: int = 0
    misaligned: int = 0
    dropped_overlap: int = 0
    dropped_empty: int = 0


def project(pred_ents: Iterable[Ent], gold: Doc) -> Projection:
    """Project predicted character spans onto the tokens of ``gold`` (see module doc)."""
    spans: List[Span] = []
    proj = Projection(spans=[])
    for ent in pred_ents:
        proj.n_pred += 1
        strict = gold.char_span(ent.start, ent.end, label=ent.label, alignment_mode="strict")
        span = strict
        if strict is None:
            proj.misaligned += 1
            span = gold.char_span(ent.start, ent.end, label=ent.label, alignment_mode="expand")
        if span is None or len(span) == 0 or not span.text.strip():
            proj.dropped_empty += 1
            continue
        spans.append(span)
    kept = filter_spans(spans)
    proj.dropped_overlap = len(spans) - len(kept)
    proj.spans = sorted(kept, key=lambda s: s.start)
    return proj


def iob2_tags(doc: Doc, spans: Iterable[Span], view: str = "5type") -> List[str]:
    """IOB2 tags, one per token of ``doc``, for non-overlapping ``spans`` of ``doc``,
    labels mapped to ``view``."""
    tags = ["O"] * len(doc)
    for span in spans:
        label = map_label(span.label_, view)
        tags[span.start] = f"B-{label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{label}"
    return tags


def spans_to_ents(spans: Iterable[Span]) -> List[Ent]:
    return [Ent(s.start_char, s.end_char, s.label_) for s in spans]


def relabel(ents: Iterable[Ent], view: str) -> List[Ent]:
    return [Ent(e.start, e.end, map_label(e.label, view)) for e in ents]


def count_words(doc: Doc) -> int:
    """Words of a Doc: its non-space tokens."""
    return sum(1 for t in doc if not t.is_space)


def window(text: str, marks: Sequence[Tuple[int, int, str, str]], width: int = 60) -> str:
    """``text`` around the marked spans, each ``(start, end, open, close)`` inserted.

    Markers are inserted at character offsets, so overlapping spans stay readable:
    ``"[severe {pain]/G:SIGN in legs}/P:SYMPTOM"``.
    """
    if not marks:
        return text[:width * 2]
    lo = max(0, min(m[0] for m in marks) - width)
    hi = min(len(text), max(m[1] for m in marks) + width)
    # at each offset: closers first (the latest opened closes first), then openers
    # (the longest opens first), so markers nest whenever the spans do
    closers: Dict[int, List[Tuple[tuple, str]]] = {}
    openers: Dict[int, List[Tuple[tuple, str]]] = {}
    for k, (start, end, opening, closing) in enumerate(marks):
        openers.setdefault(start, []).append(((-end, k), opening))
        closers.setdefault(end, []).append(((-start, -k), closing))
    out = []
    for i in range(lo, hi + 1):
        out.extend(mark for _, mark in sorted(closers.get(i, [])))
        out.extend(mark for _, mark in sorted(openers.get(i, [])))
        if i < hi:
            out.append(text[i])
    prefix = "..." if lo > 0 else ""
    suffix = "..." if hi < len(text) else ""
    return prefix + "".join(out).replace("\n", " ") + suffix


def optional_span_dict(ent: Optional[Ent], text: str) -> Optional[dict]:
    if ent is None:
        return None
    return {"start": ent.start, "end": ent.end, "label": ent.label, "text": text[ent.start:ent.end]}
