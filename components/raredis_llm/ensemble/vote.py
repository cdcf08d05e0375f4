"""Two components that let several NER systems vote on ``doc.ents``.

``raredis_collect_ents`` goes after each member's NER: it moves ``doc.ents`` into
``doc.spans[key]`` and clears ``doc.ents``, so the next member starts from nothing and
every member's own entities stay on the Doc for inspection.

``raredis_span_vote`` goes last. A span (exact characters and label) proposed by at least
``min_votes`` of the groups in ``keys`` is a candidate; overlapping candidates are
resolved by more votes first, then by the order of ``keys`` (the first group that
proposed it), then by length. The winners become ``doc.ents``; ``doc.spans[votes_key]``
holds the same spans with their vote count in ``span.id_`` ("2", "3", ...).
"""

from collections import Counter
from typing import Dict, List, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

SpanKey = Tuple[int, int, str]


def collect_ents(doc: Doc, key: str) -> Doc:
    doc.spans[key] = list(doc.ents)
    doc.ents = []
    return doc


def resolve_votes(groups: Sequence[Sequence[SpanKey]], min_votes: int) -> List[Tuple[SpanKey, int]]:
    """The winning ``(start, end, label)`` spans with their votes, in text order.

    ``groups[i]`` are the spans of voter ``i`` (earlier voters win ties); a voter's
    repeated span counts once."""
    if min_votes < 1:
        raise ValueError(f"min_votes must be >= 1, not {min_votes}")
    votes: Counter = Counter()
    first: Dict[SpanKey, int] = {}
    for rank, spans in enumerate(groups):
        for span in set(spans):
            votes[span] += 1
            first.setdefault(span, rank)
    candidates = sorted((s for s, v in votes.items() if v >= min_votes),
                        key=lambda s: (-votes[s], first[s], -(s[1] - s[0]), s))
    kept: List[SpanKey] = []
    for span in candidates:
        if not any(span[0] < other[1] and other[0] < span[1] for other in kept):
            kept.append(span)
    return [(s, votes[s]) for s in sorted(kept)]


class EntsCollector:
    def __init__(self, name: str, key: str):
        self.name = name
        self.key = key

    def __call__(self, doc: Doc) -> Doc:
        return collect_ents(doc, self.key)


class SpanVote:
    def __init__(self, name: str, keys: Sequence[str], min_votes: int, votes_key: str):
        if not keys:
            raise ValueError(f"{name}: no span groups to vote over (keys = [])")
        if not 1 <= min_votes <= len(keys):
            raise ValueError(f"{name}: min_votes = {min_votes}, but there are {len(keys)} voters")
        self.name = name
        self.keys = list(keys)
        self.min_votes = min_votes
        self.votes_key = votes_key

    def __call__(self, doc: Doc) -> Doc:
        missing = [k for k in self.keys if k not in doc.spans]
        if missing:
            raise ValueError(f"{self.name}: doc.spans has no {missing}: each voter needs a raredis_collect_ents "
                             "after its NER (see raredis_llm.ensemble.build_ensemble)")
        groups = [[(s.start_char, s.end_char, s.label_) for s in doc.spans[k]] for k in self.keys]
        set_votes(doc, resolve_votes(groups, self.min_votes), self.votes_key)
        return doc


def set_votes(doc: Doc, winners: Sequence[Tuple[SpanKey, int]], votes_key: str = "raredis_votes") -> Doc:
    """``doc.ents`` = the winning character spans of :func:`resolve_votes` (token-aligned),
    and ``doc.spans[votes_key]`` the same with their vote counts in ``span.id_``."""
    ents, kept = [], []
    for (start, end, label), n in winners:
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or (ents and span.start < ents[-1].end):
            continue  # cannot happen for token-aligned voters; never overlap doc.ents
        ents.append(span)
        kept.append(Span(doc, span.start, span.end, label=label, span_id=str(n)))
    doc.ents = ents
    doc.spans[votes_key] = kept
    return doc


@Language.factory("raredis_collect_ents", default_config={"key": "raredis_member"})
def make_collect_ents(nlp: Language, name: str, key: str) -> EntsCollector:
    """Move ``doc.ents`` into ``doc.spans[key]`` and clear them (one per ensemble member)."""
    return EntsCollector(name, key)


@Language.factory("raredis_span_vote", default_config={"keys": [], "min_votes": 2, "votes_key": "raredis_votes"})
def make_span_vote(nlp: Language, name: str, keys: List[str], min_votes: int, votes_key: str) -> SpanVote:
    """``doc.ents`` = spans proposed by at least ``min_votes`` of the ``keys`` groups."""
    return SpanVote(name, keys, min_votes, votes_key)
