"""The guard measurements run on real (tiny) pipelines and count what they say."""

import spacy
from spacy.tokens import DocBin, Span

from raredis_llm.guard import add_guards
from raredis_llm.guard.entity_guard import negation_cues
from raredis_llm.guard.evaluation import (ODD_INPUTS, crossing, cue_counts, markdown, negation_probe,
                                          odd_input_rows, probe_entities, robustness_table)


def test_crossing_and_cue_counts():
    nlp = spacy.blank("en")
    doc = nlp("no fever\nand cough. Denies pain")
    doc.set_ents([Span(doc, 0, 5, "SIGN"), Span(doc, 6, 8, "SYMPTOM")])
    assert [e.text for e in crossing(doc)] == ["no fever\nand cough"]
    counts = cue_counts([doc], negation_cues())
    assert (counts["entities"], counts["leading"], counts["inside"]) == (2, 2, 0)
    assert counts["leading_by_label"] == {"SIGN": 1, "SYMPTOM": 1}


def test_tables_on_a_tiny_pipeline(tiny_cnn, tiny_corpus):
    raw = spacy.load(tiny_cnn)
    guarded = spacy.load(tiny_cnn)
    add_guards(guarded)
    gold = list(DocBin().from_disk(tiny_corpus / "validation.spacy").get_docs(raw.vocab))[:12]
    table = robustness_table({"raw": raw, "guarded": guarded}, gold, log=lambda _: None)
    assert set(table["raw"]) == {"clean", "uppercase", "line_breaks", "bullets", "markup"}
    assert all(table["guarded"][s]["crossing_entities"] == 0 for s in table["guarded"])
    rows = odd_input_rows({"guarded": guarded})
    assert [r["input"] for r in rows] == list(ODD_INPUTS) and all(r["error"] is None for r in rows)
    text = markdown({"robustness": table, "odd_inputs": rows})
    assert "| guarded |" in text and "| bullet list |" in text


def test_negation_probe_counts_cues_inside_and_fixed(tiny_cnn, tiny_corpus):
    nlp = spacy.load(tiny_cnn)
    add_guards(nlp)
    gold = list(DocBin().from_disk(tiny_corpus / "train.spacy").get_docs(nlp.vocab))
    entities = probe_entities(gold, limit=15)
    assert entities and all(len(e.split()) <= 6 for e in entities)
    out = negation_probe(nlp, entities)
    assert out["frames"] == 6 * len(entities)
    assert out["trimmed"]["cue_inside"] == 0
    assert out["trimmed"]["found"] >= out["raw"]["found"] - out["raw"]["cue_inside"]
    assert out["trimmed"]["negated_flagged"] >= out["raw"]["negated_flagged"]
