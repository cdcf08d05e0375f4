"""How the guards' time grows with the length of a document: seconds per 1,000 words of a
clinical note with markup, line breaks and bullets at 1x, 8x and 64x its length, and the
ratio of each to the 1x row (1.0 for a guard linear in the length).

Only the guard is timed: the Doc is tokenized first, outside the clock, and each length is
run ``repeats`` times (the fastest counts, the least disturbed by other work).
"""

import time
from typing import Any, Callable, Dict, List, Sequence

import spacy
from spacy.tokens import Doc, Span

#: one page of a note: a header in markup, a bulleted list, character references, a table row
NOTE_PAGE = (
    "<h2>History</h2>\n<p>A 34-year-old woman with Fabry disease&nbsp;presents with burning pain in "
    "the hands and feet, fatigue and episodes of fever.</p>\nFindings:\n- angiokeratoma on the trunk\n"
    "- hypohidrosis\n- proteinuria (&gt;300 mg/day)\n<b>Dx:</b> Fabry disease; r/o Pompe disease.\n"
    "<table><tr><td>ataxia</td><td>absent</td></tr></table>\n"
    "1. Enzyme replacement therapy.\n2. Follow-up of the cardiomyopathy in 6 months.\n\n"
)


def note_of(n_words: int) -> str:
    """``NOTE_PAGE`` repeated until the note has at least ``n_words`` words."""
    per_page = len(NOTE_PAGE.split())
    return NOTE_PAGE * max(1, -(-n_words // per_page))


def with_entities(doc: Doc) -> Doc:
    """``doc`` with an entity on every "Fabry disease" and one from every "trunk" across the
    line break and bullet after it (what the entity guard splits)."""
    spans = []
    for token in doc:
        if token.text == "Fabry" and token.i + 2 <= len(doc):
            spans.append(Span(doc, token.i, token.i + 2, label="RAREDISEASE"))
        elif token.text == "trunk" and token.i + 4 <= len(doc):
            spans.append(Span(doc, token.i, token.i + 4, label="SIGN"))
    doc.set_ents(spans)
    return doc


def time_guard(guard: Callable[[Doc], Doc], make_doc: Callable[[str], Doc], text: str, repeats: int) -> float:
    """The fastest of ``repeats`` runs of ``guard`` on a freshly tokenized ``text`` (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        doc = make_doc(text)
        start = time.perf_counter()
        guard(doc)
        best = min(best, time.perf_counter() - start)
    return best


def scaling(n_words: int = 3250, multiples: Sequence[int] = (1, 8, 64), repeats: int = 3,
            guards: Sequence[str] = ("raredis_boundaries", "raredis_entity_guard")) -> Dict[str, Any]:
    """Seconds per 1,000 words of each guard at each multiple of a ``n_words`` note, and the
    ratio to the first multiple."""
    import raredis_llm.guard  # noqa: F401  (the factories)

    nlp = spacy.blank("en")
    nlp.max_length = 10**9  # the guards hold no per-character buffers
    rows: List[Dict[str, Any]] = []
    for name in guards:
        pipe = nlp.add_pipe(name, name=name)
        base = None
        for k in multiples:
            text = note_of(n_words * k)
            words = len(text.split())
            if name == "raredis_boundaries":
                make_doc = nlp.make_doc
            else:  # the entity guard runs on Docs split and marked, with entities to check
                make_doc = lambda t: with_entities(nlp.get_pipe("raredis_boundaries")(nlp.make_doc(t)))  # noqa: E731
            seconds = time_guard(pipe, make_doc, text, repeats)
            per_1k = seconds / words * 1000
            base = base if base is not None else per_1k
            rows.append({"guard": name, "multiple": k, "words": words, "seconds": round(seconds, 4),
                         "s_per_1k_words": round(per_1k, 5), "ratio_to_1x": round(per_1k / base, 2)})
    return {"n_words": n_words, "repeats": repeats, "rows": rows}


def format_table(result: Dict[str, Any]) -> str:
    lines = ["| guard | length | words | s / 1,000 words | ratio to 1x |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['guard']} | {r['multiple']}x | {r['words']:,} | {r['s_per_1k_words']:.4f} | "
                     f"{r['ratio_to_1x']:.2f} |")
    return "\n".join(lines)
