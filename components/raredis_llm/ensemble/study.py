"""Which members, and how many votes: span voting computed for every subset of candidate
members on one split (validation: this chooses an ensemble, so never the test split).

Each member pipeline tags the split once (every sentence with its document's context,
as a whole document gives it); its character spans are kept. Every subset of two or more
members (in the given priority order) and every ``min_votes`` from 1 to its size is then
voted with :func:`~.vote.resolve_votes`, exactly as ``raredis_span_vote`` does, and
scored by the harness. A subset's words/s is estimated from its members' own, measured in
the same run (an ensemble runs its members one after the other: ``1 / sum(1 / w)``).
"""

from itertools import combinations
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union
from pathlib import Path

import spacy
from spacy.tokens import Doc

from ..scoring.evaluate import pipeline_inputs, score_docs
from ..scoring.speed import Stopwatch
from .vote import SpanKey, resolve_votes, set_votes

Spans = List[List[SpanKey]]


def member_spans(members: Sequence[Tuple[str, Union[str, Path]]], gold: Sequence[Doc],
                 log: Callable[[str], None] = print) -> Tuple[Dict[str, Spans], Dict[str, float]]:
    """Each member's character spans on every gold Doc's text, and its words/s."""
    spans: Dict[str, Spans] = {}
    speed: Dict[str, float] = {}
    n_words = sum(len([t for t in d if not t.is_space]) for d in gold)
    for name, path in members:
        nlp = spacy.load(path)
        inputs = pipeline_inputs(nlp, gold, "text_meta")
        with Stopwatch() as clock:
            docs = list(nlp.pipe(inputs))
        spans[name] = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs]
        speed[name] = n_words / max(clock.seconds, 1e-9)
        log(f"{name}: {sum(map(len, spans[name]))} entities, {speed[name]:.0f} words/s")
        del nlp
    return spans, speed


def micro_f(scores: Dict[str, Any], view: str) -> float:
    return float(scores["views"][view]["seqeval"]["micro"]["f"])


def vote_rows(spans: Dict[str, Spans], speed: Dict[str, float], gold: Sequence[Doc],
              min_size: int = 2, must: Optional[str] = None) -> List[Dict[str, Any]]:
    """One row per member subset (``must``: only subsets holding that member) and
    ``min_votes``, best 5-type micro F1 first; singletons are the members alone."""
    names = list(spans)
    nlp = spacy.blank("en")
    rows: List[Dict[str, Any]] = []
    subsets = [c for k in range(1, len(names) + 1) for c in combinations(names, k)
               if (k == 1 or k >= min_size) and (must is None or must in c or k == 1)]
    for subset in subsets:
        for votes in range(1, len(subset) + 1):
            if len(subset) == 1 and votes > 1:
                continue
            pred = []
            for i, g in enumerate(gold):
                doc = nlp.make_doc(g.text)
                pred.append(set_votes(doc, resolve_votes([spans[m][i] for m in subset], votes)))
            scores, _ = score_docs(pred, gold, views=("5type", "4type"), errors=False)
            per_type = scores["views"]["5type"]["seqeval"].get("per_type", {})
            rows.append({"members": list(subset), "min_votes": votes,
                         "f_5type": micro_f(scores, "5type"), "f_4type": micro_f(scores, "4type"),
                         "per_type": {k: v.get("f") for k, v in per_type.items()},
                         "words_per_s": 1.0 / sum(1.0 / speed[m] for m in subset)})
    rows.sort(key=lambda r: (-r["f_5type"], -r["f_4type"], -r["words_per_s"]))
    return rows


def study_table(rows: Sequence[Dict[str, Any]], top: int = 20) -> str:
    """Markdown: the best ``top`` rows and every member alone."""
    alone = [r for r in rows if len(r["members"]) == 1]
    shown = list(rows[:top]) + [r for r in alone if r not in rows[:top]]
    lines = ["| members | votes | micro F1 5 types | micro F1 4 types | SKINRAREDISEASE | words/s (estimated) |",
             "|---|---|---|---|---|---|"]
    for r in shown:
        skin = r["per_type"].get("SKINRAREDISEASE")
        lines.append(f"| {' + '.join(r['members'])} | {r['min_votes']} | {100 * r['f_5type']:.1f} | "
                     f"{100 * r['f_4type']:.1f} | {'-' if skin is None else f'{100 * skin:.1f}'} | "
                     f"{r['words_per_s']:.0f} |")
    return "\n".join(lines) + "\n"
