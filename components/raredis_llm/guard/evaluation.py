"""Measurements behind the guard: F1 on clean and on noised validation text, entities
that cross a line break or markup, the odd-input table, and negation cues versus NegEx.

Used by ``scripts/evaluate_guards.py``; every number comes from a seeded, deterministic
computation on the validation split (never the test split).
"""

import random
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example

from ..scoring.evaluate import evaluate
from .augment import KINDS, noised_copy
from .boundaries import barrier_tokens
from .entity_guard import guarded_pieces, negation_cues
from .markup import model_text

#: Hand-written odd inputs (the issue's examples and the other shapes it lists).
ODD_INPUTS: Dict[str, str] = {
    "empty": "",
    "whitespace only": " \n\t \r\n ",
    "one word": "Fabry",
    "bullet list": "Findings:\n- ataxia\n- seizures\n- hypotonia\n\nDx: Rett syndrome.",
    "HTML": "<p>Pompe disease</p><br/><b>muscle weakness</b>",
    "all caps": "PT IS A 34 YO F W/ HX OF MARFAN SYNDROME",
    "control character": "The patient has Gaucher\x07 disease and splenomegaly.",
    "control character, glued": "The patient has Gaucher\x00disease and splenomegaly.",
    "non-ASCII": "Sjögren syndrome with β-thalassemia and café-au-lait spots 😀.",
    "negation": "There is no evidence of Fabry disease. The patient denies pain and has no fever.",
}


def crossing(doc: Doc) -> List[Span]:
    """Entities that contain a line break, markup or a line-opening bullet."""
    barriers = barrier_tokens(doc)
    return [e for e in doc.ents if any(i in barriers for i in range(e.start, e.end))]


def noised_validation(nlp: Language, docs: Sequence[Doc], kind: str, seed: int = 0) -> List[Doc]:
    """Copies of ``docs`` with one kind of noise (:data:`.augment.KINDS`), gold entities kept."""
    rng = random.Random(seed)
    return [noised_copy(nlp, Example(nlp.make_doc(d.text), d), [kind], rng).reference for d in docs]


def score(nlp: Language, gold: Sequence[Doc], name: str) -> Dict[str, Any]:
    """Micro F1 (seqeval, 5- and 4-type) of ``nlp`` on the texts of ``gold``, and crossing entities."""
    metrics = evaluate(nlp, gold, system=name)
    crossings = sum(len(crossing(nlp(d.text))) for d in gold) if gold else 0
    views = metrics["views"]
    return {"f1_5type": round(100 * views["5type"]["seqeval"]["micro"]["f"], 2),
            "f1_4type": round(100 * views["4type"]["seqeval"]["micro"]["f"], 2),
            "crossing_entities": crossings, "n_docs": len(gold)}


def robustness_table(pipelines: Dict[str, Language], gold: Sequence[Doc], seed: int = 0,
                     log: Callable[[str], None] = print) -> Dict[str, Dict[str, Any]]:
    """``pipeline -> {"clean": score, kind: score}`` on validation and its noised copies."""
    base = next(iter(pipelines.values()))
    sets = {"clean": list(gold), **{kind: noised_validation(base, gold, kind, seed) for kind in KINDS}}
    out: Dict[str, Dict[str, Any]] = {}
    for name, nlp in pipelines.items():
        out[name] = {}
        for set_name, docs in sets.items():
            out[name][set_name] = score(nlp, docs, f"{name}:{set_name}")
            log(f"{name} {set_name}: {out[name][set_name]}")
    return out


def odd_input_rows(pipelines: Dict[str, Language], cases: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    """One row per (input, pipeline): the entities (text as in the input), or the exception.
    The text goes in as ``annotate`` sends it (control characters as spaces)."""
    rows = []
    for case, text in (cases or ODD_INPUTS).items():
        for name, nlp in pipelines.items():
            try:
                doc = nlp(model_text(text))
                ents = [(text[e.start_char:e.end_char], e.label_) for e in doc.ents]
                rows.append({"input": case, "pipeline": name, "entities": ents, "crossing": len(crossing(doc)),
                             "error": None})
            except Exception as err:  # recorded: the table says which input breaks what
                rows.append({"input": case, "pipeline": name, "entities": None, "crossing": None,
                             "error": f"{type(err).__name__}: {err}"})
    return rows


def _starts_with(words: Sequence[str], cues: Iterable[Tuple[str, ...]]) -> bool:
    return any(len(words) > len(c) and tuple(words[:len(c)]) == c for c in cues)


def _contains(words: Sequence[str], cues: Iterable[Tuple[str, ...]]) -> bool:
    return any(tuple(words[i:i + len(c)]) == c for c in cues for i in range(1, len(words) - len(c) + 1))


def cue_counts(docs: Iterable[Doc], cues: Sequence[Tuple[str, ...]]) -> Dict[str, Any]:
    """How many entities open with a cue, or hold one further in, per label; examples."""
    n, leading, inside, examples = 0, {}, {}, []
    for doc in docs:
        for ent in doc.ents:
            n += 1
            words = [t.lower_ for t in ent]
            if _starts_with(words, cues):
                leading[ent.label_] = leading.get(ent.label_, 0) + 1
                examples.append(ent.text)
            elif _contains(words, cues):
                inside[ent.label_] = inside.get(ent.label_, 0) + 1
                examples.append(f"(inside) {ent.text}")
    return {"entities": n, "leading": sum(leading.values()), "leading_by_label": leading,
            "inside": sum(inside.values()), "inside_by_label": inside, "examples": examples[:30]}


def _negex_flags(negex: Language, sentencizer: Callable, doc: Doc, spans: Sequence[Tuple[int, int, str]]) -> Dict[Tuple[int, int, str], bool]:
    doc = negex.make_doc(doc.text)
    doc.set_ents([doc.char_span(s, e, label=l, alignment_mode="expand") for s, e, l in spans], default="outside")
    doc = negex.get_pipe("negex")(sentencizer(doc))
    return {(e.start_char, e.end_char, e.label_): bool(e._.negex) for e in doc.ents}


def _trimmed(doc: Doc, cues) -> List[Tuple[int, int, str]]:
    barriers = barrier_tokens(doc)
    out = []
    for ent in doc.ents:
        for a, b in guarded_pieces(doc, ent, barriers, cues):
            out.append((doc[a].idx, doc[b - 1].idx + len(doc[b - 1].text), ent.label_))
    return out


def negation_agreement(nlp: Language, gold: Sequence[Doc]) -> Dict[str, Any]:
    """NegEx (negspacy) on our predictions, with and without leading cues trimmed, against
    NegEx on the gold entities with their cues trimmed (spans as NegEx expects them).

    Agreement: of the predicted entities that overlap a gold entity with the same label,
    the share whose NegEx flag equals the gold one's."""
    import spacy

    import negspacy.negation  # noqa: F401  (registers "negex"; the `test` extra)

    negex = spacy.blank("en")
    sentencizer = negex.add_pipe("sentencizer")
    negex.add_pipe("negex")
    cues = negation_cues()
    preds = list(nlp.pipe([d.text for d in gold]))
    out: Dict[str, Any] = {}
    ref_flags = [_negex_flags(negex, sentencizer, g, _trimmed(g, cues)) for g in gold]
    out["gold_negated"] = sum(sum(f.values()) for f in ref_flags)
    out["gold_negated_untrimmed"] = sum(sum(_negex_flags(negex, sentencizer, g, [(e.start_char, e.end_char, e.label_)
                                                                                 for e in g.ents]).values()) for g in gold)
    for variant, trim in (("raw", ()), ("trimmed", cues)):
        agree = total = negated = 0
        for g, p, ref in zip(gold, preds, ref_flags):
            spans = _trimmed(p, trim) if trim else [(e.start_char, e.end_char, e.label_) for e in p.ents]
            flags = _negex_flags(negex, sentencizer, p, spans)
            negated += sum(flags.values())
            for (s, e, label), flag in flags.items():
                match = [f for (gs, ge, gl), f in ref.items() if gl == label and gs < e and s < ge]
                if match:
                    total += 1
                    agree += int(flag == match[0])
        out[variant] = {"negated": negated, "matched": total, "agree": agree,
                        "agreement": round(agree / total, 4) if total else None}
    return out


def markdown(result: Dict[str, Any]) -> str:
    """The tables of ``scripts/evaluate_guards.py``'s result, as Markdown."""
    lines: List[str] = []
    rob = result.get("robustness", {})
    if rob:
        sets = list(next(iter(rob.values())))
        lines += ["micro F1 (5 types, seqeval) on validation and on noised copies of it; "
                  "in brackets: predicted entities that cross a line break, markup or a bullet", "",
                  "| pipeline | " + " | ".join(sets) + " |", "|---" * (len(sets) + 1) + "|"]
        for name, row in rob.items():
            lines.append(f"| {name} | " + " | ".join(f"{row[s]['f1_5type']:.1f} ({row[s]['crossing_entities']})"
                                                   for s in sets) + " |")
        lines.append("")
    odd = result.get("odd_inputs", [])
    if odd:
        names = list(dict.fromkeys(r["pipeline"] for r in odd))
        lines += ["| input | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for case in dict.fromkeys(r["input"] for r in odd):
            cells = []
            for name in names:
                (row,) = [r for r in odd if r["input"] == case and r["pipeline"] == name]
                if row["error"]:
                    cells.append(f"error: {row['error']}")
                else:
                    ents = "; ".join(f"{t!r} {l}" for t, l in row["entities"]) or "-"
                    cells.append(ents.replace("|", "\\|") + (f" **crossing {row['crossing']}**" if row["crossing"] else ""))
            lines.append(f"| {case} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


#: Negated and affirmed frames for :func:`negation_probe` (``{x}``: an entity text).
NEGATED_FRAMES = ("The patient denies {x}.", "There is no {x}.", "No {x} was seen on examination.",
                  "He presented without {x}.")
AFFIRMED_FRAMES = ("The patient reports {x}.", "On examination there was {x}.")


def probe_entities(gold: Sequence[Doc], labels: Sequence[str] = ("SIGN", "SYMPTOM", "DISEASE"),
                   max_words: int = 4, limit: int = 100) -> List[str]:
    """Distinct short gold entity texts of ``labels`` (lower-cased first letter), in corpus order."""
    out: List[str] = []
    for doc in gold:
        for ent in doc.ents:
            text = ent.text[:1].lower() + ent.text[1:]
            if ent.label_ in labels and len(ent) <= max_words and text not in out:
                out.append(text)
    return out[:limit]


def negation_probe(nlp: Language, entities: Sequence[str]) -> Dict[str, Any]:
    """Each entity text put in negated and affirmed frames; NegEx after ``nlp`` (with
    ``sentencizer``), with and without leading cues trimmed by the guard.

    Per variant: ``found`` (frames where the pipeline tags an entity ending where the
    entity text ends), ``cue_inside`` (those that open with a cue) and ``correct`` (NegEx's
    flag equals the frame's polarity)."""
    import negspacy.negation  # noqa: F401

    import spacy

    negex = spacy.blank("en")
    sentencizer = negex.add_pipe("sentencizer")
    negex.add_pipe("negex")
    cues = negation_cues()
    cases = [(frame.format(x=x), x, True) for x in entities for frame in NEGATED_FRAMES]
    cases += [(frame.format(x=x), x, False) for x in entities for frame in AFFIRMED_FRAMES]
    docs = list(nlp.pipe([text for text, _, _ in cases]))
    out: Dict[str, Any] = {"entities": len(entities), "frames": len(cases)}
    for variant, trim in (("raw", ()), ("trimmed", cues)):
        found = inside = correct = correct_neg = found_neg = 0
        for doc, (text, x, negated) in zip(docs, cases):
            end = text.index(x) + len(x)
            spans = _trimmed(doc, trim) if trim else [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            hits = [s for s in spans if s[1] == end]
            if not hits:
                continue
            found += 1
            words = [t.lower_ for t in doc.char_span(hits[0][0], hits[0][1], alignment_mode="expand")]
            inside += int(_starts_with(words, cues))
            flag = _negex_flags(negex, sentencizer, doc, spans)[hits[0]]
            correct += int(flag == negated)
            if negated:
                found_neg += 1
                correct_neg += int(flag)
        out[variant] = {"found": found, "cue_inside": inside, "correct": correct,
                        "accuracy": round(correct / found, 4) if found else None,
                        "negated_found": found_neg, "negated_flagged": correct_neg}
    return out
