"""BRAT documents <-> spaCy Docs (document level and sentence level).

Tokens are spaCy's English tokenizer's, further split at every annotated character
boundary (all fragments of all entities, ANAPHOR included), so every annotation is
exactly a token span and ``doc.spans`` can hold all of it. ``doc.ents`` holds one
projection of it (``project.py``); :func:`projected_ents` and :func:`reproject` compute
another one from what the Doc stores, without converting again.
"""

from bisect import bisect_right
from collections import defaultdict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..labels import LABELS, MERGE_MAP
from . import schema
from .brat import BratDocument, Entity, Relation
from .project import DEFAULT_PROJECTION, get_policy, label_order, project_entities
from .segment import protect_entities, split_sentences


def tokenize_at(nlp: Language, text: str, boundaries: Iterable[int]) -> Doc:
    """Tokenize ``text`` and split tokens at the given character offsets."""
    base = nlp.make_doc(text)
    cuts = sorted(set(boundaries))
    words: List[str] = []
    spaces: List[bool] = []
    for tok in base:
        start, end = tok.idx, tok.idx + len(tok.text)
        lo = bisect_right(cuts, start)
        points = [start]
        while lo < len(cuts) and cuts[lo] < end:
            points.append(cuts[lo])
            lo += 1
        points.append(end)
        for a, b in zip(points, points[1:]):
            words.append(text[a:b])
            spaces.append(False)
        spaces[-1] = bool(tok.whitespace_)
    return Doc(nlp.vocab, words=words, spaces=spaces)


def _trimmed(text: str, start: int, end: int) -> Tuple[int, int]:
    """Clip to the text and strip surrounding whitespace (a sentence Doc's text is trimmed)."""
    start, end = max(start, 0), min(end, len(text))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _boundaries(text: str, entities: Sequence[Entity]) -> List[int]:
    points = []
    for ent in entities:
        for s, e in ent.fragments:
            points.extend(_trimmed(text, s, e))
    return points


def _make_doc(
    nlp: Language,
    text: str,
    entities: Sequence[Entity],
    relations: Sequence[Relation],
    kept: Set[Tuple[str, int]],
    reasons: Mapping[str, str],
    doc_id: str,
    sent_index: int,
    offset: int,
    merge_skin: bool,
    other_lines: Sequence[str] = (),
    order: Sequence[str] = (),
    projection: str = DEFAULT_PROJECTION,
) -> Doc:
    doc = tokenize_at(nlp, text, _boundaries(text, entities))
    label_of = (lambda l: MERGE_MAP.get(l, l)) if merge_skin else (lambda l: l)
    all_spans: List[Span] = []
    ents: List[Span] = []
    for ent in entities:
        for i, (s, e) in enumerate(ent.fragments):
            s, e = _trimmed(text, s, e)
            span = doc.char_span(s, e, label=label_of(ent.label), kb_id=ent.id, span_id=ent.id)
            if span is None:  # cannot happen: tokens were split at these offsets
                raise ValueError(f"{doc_id}: {ent.id} [{s}, {e}) does not align with tokens")
            all_spans.append(span)
            if (ent.id, i) in kept:
                ents.append(span)
    doc.ents = sorted(ents, key=lambda x: x.start)
    doc.spans[schema.SPANS_KEY] = all_spans
    doc.user_data[schema.DOC_ID] = doc_id
    doc.user_data[schema.SENT_INDEX] = sent_index
    doc.user_data[schema.CHAR_OFFSET] = offset
    doc.user_data[schema.ANNOTATION] = {
        "entities": [e.to_dict() for e in entities],
        "relations": [r.to_dict() for r in relations],
        "projection": {k: v for k, v in reasons.items() if k in {e.id for e in entities}},
        "projection_name": projection,
        "label_order": list(order),
        "merge_skin": merge_skin,
        "other_lines": list(other_lines),
    }
    return doc


def brat_to_docs(
    nlp: Language,
    brat: BratDocument,
    sentencizer: Optional[Language] = None,
    merge_skin: bool = False,
    target_labels: Iterable[str] = LABELS,
    projection: str = DEFAULT_PROJECTION,
) -> Tuple[Doc, List[Doc], List[dict]]:
    """Convert one BRAT document to a document-level Doc and its sentence Docs.

    ``doc.ents`` follow ``projection`` (a name of ``project.PROJECTIONS``). Returns
    ``(doc, sentence_docs, merged_boundaries)``; each merged boundary is
    ``{"doc_id", "position", "entity"}`` for a sentence boundary that would have cut an
    entity and was therefore removed.
    """
    order = label_order(brat.entities)
    pieces, reasons = project_entities(brat.entities, target_labels, projection=projection, order=order)
    kept = {(p.id, p.fragment) for p in pieces}
    common = dict(merge_skin=merge_skin, order=order, projection=projection)
    doc = _make_doc(nlp, brat.text, brat.entities, brat.relations, kept, reasons, brat.doc_id, -1, 0,
                    other_lines=brat.other_lines, **common)
    if sentencizer is None:
        return doc, [], []
    sentences = split_sentences(sentencizer, brat.text)
    # Extents without surrounding whitespace: sentences are trimmed the same way.
    extents = {e.id: _trimmed(brat.text, e.start, e.end) for e in brat.entities}
    sentences, removed = protect_entities(sentences, list(extents.values()))
    merged = [{"doc_id": brat.doc_id, "position": pos, "extent": list(ext)} for pos, ext in removed]
    by_sentence: Dict[int, List[Entity]] = defaultdict(list)
    starts = [s for s, _ in sentences]
    for ent in brat.entities:
        start, end = extents[ent.id]
        i = bisect_right(starts, start) - 1
        if i < 0 or end > sentences[i][1]:
            raise ValueError(f"{brat.doc_id}: entity {ent.id} lies outside every sentence")
        by_sentence[i].append(ent)
    sent_docs = []
    for i, (s, e) in enumerate(sentences):
        ents = [x.shifted(-s) for x in by_sentence[i]]
        ids = {x.id for x in ents}
        rels = [r for r in brat.relations if r.arg1 in ids and r.arg2 in ids]
        sent_doc = _make_doc(nlp, brat.text[s:e], ents, rels, kept, reasons, brat.doc_id, i, s, **common)
        sent_doc.user_data[schema.CONTEXT] = brat.text[sentences[0][0]:sentences[0][1]]
        sent_docs.append(sent_doc)
    return doc, sent_docs, merged


def projected_ents(
    doc: Doc,
    projection: str = DEFAULT_PROJECTION,
    same_span: Optional[str] = None,
    target_labels: Iterable[str] = LABELS,
) -> Tuple[List[Span], List[Span]]:
    """``(ents, missing)`` of a converted Doc under another projection.

    Computed from the annotation the Doc stores (``doc.user_data``), with the document's
    label order, so a sentence Doc is projected as its whole document would be.
    ``missing`` holds, for the ``missing_fragments`` training variant, the fragments of
    discontinuous entities that overlap no entity of ``ents`` (empty otherwise).
    """
    data = doc.user_data.get(schema.ANNOTATION)
    if data is None:
        raise ValueError(f"Doc {doc.text[:40]!r} has no stored RareDis annotation (convert it with "
                         "raredis_llm.corpus.convert)")
    if "label_order" not in data:
        raise ValueError(f"Doc {doc.user_data.get(schema.DOC_ID)!r} was converted before projections were "
                         "named: run the convert step again")
    policy = get_policy(projection, same_span)
    entities = [Entity.from_dict(e) for e in data["entities"]]
    pieces, _ = project_entities(entities, target_labels, projection=projection, same_span=same_span,
                                 order=data["label_order"])
    merge = data.get("merge_skin", False)
    label_of = (lambda l: MERGE_MAP.get(l, l)) if merge else (lambda l: l)
    ents = [_span(doc, p.start, p.end, label_of(p.label)) for p in pieces]
    missing: List[Span] = []
    if policy.discontinuous == "missing":
        taken = {i for ent in ents for i in range(ent.start, ent.end)}
        for ent in entities:
            if ent.is_discontinuous and ent.label in set(target_labels):
                for s, e in ent.fragments:
                    span = _span(doc, s, e, "")
                    if not any(i in taken for i in range(span.start, span.end)):
                        missing.append(span)
                        taken.update(range(span.start, span.end))
    return ents, missing


def _span(doc: Doc, start: int, end: int, label: str) -> Span:
    s, e = _trimmed(doc.text, start, end)
    span = doc.char_span(s, e, label=label)
    if span is None:
        raise ValueError(f"{doc.user_data.get(schema.DOC_ID)}: [{s}, {e}) does not align with the Doc's tokens")
    return span


def reproject(doc: Doc, projection: str = DEFAULT_PROJECTION, same_span: Optional[str] = None) -> Doc:
    """A copy of a converted Doc whose ``doc.ents`` follow ``projection``.

    Tokens of ``missing`` spans (see :func:`projected_ents`) get no entity annotation
    (spaCy's missing value), every other token is in an entity or outside one.
    """
    out = doc.copy()
    ents, missing = projected_ents(out, projection, same_span)
    out.set_ents(ents, missing=missing, default="outside")
    return out


def doc_to_brat(doc: Doc, text: Optional[str] = None) -> BratDocument:
    """Rebuild the original BRAT annotation stored on a Doc (lossless).

    For a sentence Doc, offsets are shifted back into the original document; pass the
    original document ``text`` to get a BratDocument over the whole file.
    """
    data = doc.user_data[schema.ANNOTATION]
    offset = doc.user_data.get(schema.CHAR_OFFSET, 0)
    entities = [Entity.from_dict(e).shifted(offset) for e in data["entities"]]
    relations = [Relation.from_dict(r) for r in data["relations"]]
    return BratDocument(doc.user_data[schema.DOC_ID], text if text is not None else doc.text, entities, relations, list(data.get("other_lines", [])))


def ents_to_brat(docs: Iterable[Doc], texts: Mapping[str, str]) -> List[BratDocument]:
    """Write predicted ``doc.ents`` of (sentence or document) Docs as BRAT documents.

    Docs are grouped by their document id and shifted by their character offset, so
    predictions on sentences land at the right place in the original ``.txt``.
    """
    grouped: Dict[str, List[Entity]] = defaultdict(list)
    order: List[str] = []
    for doc in docs:
        doc_id = doc.user_data[schema.DOC_ID]
        if doc_id not in grouped:
            order.append(doc_id)
        offset = doc.user_data.get(schema.CHAR_OFFSET, 0)
        for ent in doc.ents:
            grouped[doc_id].append(Entity("", ent.label_, [(ent.start_char + offset, ent.end_char + offset)], ent.text))
    out = []
    for doc_id in order:
        ents = sorted(grouped[doc_id], key=lambda e: (e.start, e.end))
        for i, ent in enumerate(ents, start=1):
            ent.id = f"T{i}"
            if texts[doc_id][ent.start : ent.end] != ent.text:
                raise ValueError(f"{doc_id}: predicted {ent.text!r} does not match the text at {ent.fragments[0]}")
        out.append(BratDocument(doc_id, texts[doc_id], ents, []))
    return out
