"""Property-based tests: any valid BRAT annotation survives BRAT -> Doc -> DocBin -> BRAT."""

import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.tokens import DocBin

from raredis_llm.corpus import schema
from raredis_llm.corpus.brat import BratDocument, Entity, Relation, format_ann, parse_ann
from raredis_llm.corpus.docs import brat_to_docs, doc_to_brat
from raredis_llm.corpus.segment import make_sentencizer
from raredis_llm.labels import ALL_LABELS

NLP = spacy.blank("en")
SENTENCIZER = make_sentencizer()
WORDS = st.sampled_from(["pain", "ACTH", "rare", "skin-fold", "(MS)", "e.g.", "fever.", "Dr.", "x", "3.5", '"q"', "weak;"])
SEPS = st.sampled_from([" ", " ", " ", "  ", "\n", ". ", "\n\n"])


@st.composite
def brat_documents(draw):
    words = draw(st.lists(WORDS, min_size=1, max_size=25))
    seps = draw(st.lists(SEPS, min_size=len(words), max_size=len(words)))
    text = "".join(w + s for w, s in zip(words, seps))
    n = len(text)
    entities = []
    for i in range(draw(st.integers(0, 8))):
        n_frag = draw(st.integers(1, 3))
        frags = []
        for _ in range(n_frag):
            start = draw(st.integers(0, n - 1))
            end = draw(st.integers(start + 1, min(n, start + 20)))
            if text[start:end].strip():
                frags.append((start, end))
        if frags:
            label = draw(st.sampled_from(ALL_LABELS))
            entities.append(Entity(f"T{i + 1}", label, frags, " ".join(text[s:e] for s, e in frags)))
    relations = []
    if len(entities) >= 2:
        for j in range(draw(st.integers(0, 3))):
            a, b = draw(st.sampled_from(entities)), draw(st.sampled_from(entities))
            relations.append(Relation(f"R{j + 1}", "Produces", a.id, b.id))
    return BratDocument("gen", text, entities, relations)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(brat_documents())
def test_reader_reads_what_writer_writes(brat):
    ents, rels, _, issues = parse_ann(format_ann(brat), brat.text, "gen.ann", ALL_LABELS)
    assert ents == brat.entities and rels == brat.relations and issues == []


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(brat_documents())
def test_round_trip_and_invariants(brat):
    doc, sents, _ = brat_to_docs(NLP, brat, SENTENCIZER)
    back = list(DocBin(docs=[doc], store_user_data=True).get_docs(NLP.vocab))[0]
    assert format_ann(doc_to_brat(back)) == format_ann(brat)
    # doc.ents never overlap, and each is an entity of the annotation (whitespace-trimmed)
    spans = {(s, e, x.label) for x in brat.entities for s, e in x.fragments}
    for ent in back.ents:
        assert any(ent.label_ == lab and s <= ent.start_char and ent.end_char <= e for s, e, lab in spans)
    # every fragment is in doc.spans; every entity is in ents or has a reason
    assert len(back.spans[schema.SPANS_KEY]) == sum(len(x.fragments) for x in brat.entities)
    reasons = back.user_data[schema.ANNOTATION]["projection"]
    assert len(back.ents) + len(reasons) == len(brat.entities)
    # sentences: exact substrings, no entity cut, entities all accounted for
    for s in sents:
        off = s.user_data[schema.CHAR_OFFSET]
        assert brat.text[off : off + len(s.text)] == s.text
    assert sorted(e.id for s in sents for e in doc_to_brat(s).entities) == sorted(e.id for e in brat.entities)
    assert sum(len(s.ents) for s in sents) == len(back.ents)
