"""raredis_entity_guard: entities cut at line breaks, markup and bullets, trimmed at the
edges, optionally without a leading negation cue; the issue's examples."""

import pytest
import spacy
from spacy.tokens import Span

from raredis_llm.guard.entity_guard import negation_cues


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_boundaries")
    return nlp


def guarded(nlp, text, spans, **config):
    doc = nlp(text)
    ents = []
    for start, end, label in spans:
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        ents.append(span)
    doc.set_ents(ents, default="outside")
    guard = nlp.add_pipe("raredis_entity_guard", name=f"g{len(nlp.pipe_names)}", config=config)
    return [(e.text, e.label_) for e in guard(doc).ents]


def test_bullet_list_entity_is_cut_into_its_items(nlp):
    text = "Findings:\n- ataxia\n- seizures\n- hypotonia\n\nDx: Rett syndrome."
    start = text.index("- ataxia")
    end = text.index("Dx") + 2
    got = guarded(nlp, text, [(start, end, "SIGN"), (text.index("Rett"), text.index("."), "RAREDISEASE")])
    assert got == [("ataxia", "SIGN"), ("seizures", "SIGN"), ("hypotonia", "SIGN"), ("Dx", "SIGN"),
                   ("Rett syndrome", "RAREDISEASE")]


def test_markup_never_inside_an_entity(nlp):
    text = "<p>Pompe disease</p><br/><b>muscle weakness</b>"
    got = guarded(nlp, text, [(3, text.index("muscle") - 1, "RAREDISEASE"),
                              (text.index("muscle"), len(text) - 2, "SIGN")])
    assert got == [("Pompe disease", "RAREDISEASE"), ("muscle weakness", "SIGN")]


def test_entity_of_markup_or_punctuation_only_is_dropped(nlp):
    assert guarded(nlp, "a <br/> - , b", [(2, 11, "SIGN")]) == []


def test_kb_id_and_untouched_entities_are_kept(nlp):
    doc = nlp("Fabry disease and\nGaucher disease")
    doc.set_ents([Span(doc, 0, 2, "RAREDISEASE", kb_id="ORPHA:324"), Span(doc, 2, 6, "RAREDISEASE", kb_id="X")])
    guard = nlp.add_pipe("raredis_entity_guard")
    out = guard(doc)
    assert [(e.text, e.kb_id_) for e in out.ents] == [("Fabry disease", "ORPHA:324"), ("and", "X"),
                                                      ("Gaucher disease", "X")]


def test_labels_limit_the_guard(nlp):
    text = "fever\ncough"
    assert guarded(nlp, text, [(0, len(text), "SIGN")], labels=["RAREDISEASE"]) == [("fever\ncough", "SIGN")]


def test_leading_negation_cues_are_trimmed_only_when_asked(nlp):
    text = "Patient denies pain and has no fever without rash."
    spans = [(text.index("denies"), text.index(" and"), "SYMPTOM"), (text.index("no fever"), text.index(" without"), "SIGN"),
             (text.index("without"), text.index("."), "SIGN")]
    assert [t for t, _ in guarded(nlp, text, spans)] == ["denies pain", "no fever", "without rash"]
    assert [t for t, _ in guarded(nlp, text, spans, trim_cues=True)] == ["pain", "fever", "rash"]
    # a cue alone is not trimmed to nothing; "absence of" is a RareDis SIGN, not a cue
    assert [t for t, _ in guarded(nlp, "no. absence of kidneys", [(0, 2, "SIGN"), (4, 22, "SIGN")], trim_cues=True)] \
        == ["no", "absence of kidneys"]


def test_cue_list_is_a_package_file():
    cues = negation_cues()
    assert ("no",) in cues and ("denies",) in cues and ("no", "evidence", "of") in cues
    assert ("absence", "of") not in cues
    assert len(cues[0]) >= len(cues[-1])  # longest first
