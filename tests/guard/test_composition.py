"""Our pipelines composed with other clinical components: negspacy's NegEx after them
(negated entities flagged, in annotate's output too; a leading cue trimmed by the guard
so that NegEx sees it), and our trained ner sourced into a pipeline that has its own."""

import pytest
import spacy
from spacy.tokens import DocBin
from tests.guard.tiny_ner import drug_ner

import negspacy.negation  # noqa: F401  (registers "negex")
from raredis_llm.annotate.engines import SpacyEngine
from raredis_llm.annotate.writers import doc_record
from raredis_llm.guard import add_guards


def with_negex(path, trim_cues=False):
    nlp = spacy.load(path)
    add_guards(nlp, trim_cues=trim_cues)
    nlp.add_pipe("sentencizer", after="raredis_entity_guard")
    nlp.add_pipe("negex", last=True)
    return nlp


@pytest.fixture(scope="module")
def stable_entities(tiny_cnn, tiny_corpus):
    """Short entity texts the tiny CNN tags alone, after 'There is no evidence of' and after
    'The patient has' (a long one may hold a NegEx termination word such as "but")."""
    nlp = with_negex(tiny_cnn)
    found = []
    for doc in DocBin().from_disk(tiny_corpus / "train.spacy").get_docs(nlp.vocab):
        for ent in nlp(doc.text).ents:
            text = ent.text
            if len(ent) > 4:
                continue
            neg = [e for e in nlp(f"There is no evidence of {text}.").ents if e.text == text]
            pos = [e for e in nlp(f"The patient has {text}.").ents if e.text == text]
            if neg and pos and text not in found:
                found.append(text)
    assert found, "the tiny CNN tags none of its training entities in a new sentence"
    return found[:5]


def test_negex_flags_our_entities(tiny_cnn, stable_entities):
    nlp = with_negex(tiny_cnn)
    for text in stable_entities:
        (neg,) = [e for e in nlp(f"There is no evidence of {text}.").ents if e.text == text]
        (pos,) = [e for e in nlp(f"The patient has {text}.").ents if e.text == text]
        assert neg._.negex is True and pos._.negex is False


def test_negex_in_annotate_output(tiny_cnn, stable_entities):
    nlp = with_negex(tiny_cnn)
    text = stable_entities[0]
    engine = SpacyEngine(nlp)
    items = [(0, f"There is no evidence of {text}."), (1, f"The patient has {text}.")]
    records = [doc_record(doc, str(seq)) for seq, doc, _ in engine.run(items)]
    engine.close()
    flags = [[e["_"]["negex"] for e in r["ents"] if e["text"] == text] for r in records]
    assert flags == [[True], [False]]


def test_a_cue_inside_the_entity_hides_it_from_negex_unless_trimmed(tiny_cnn):
    for trim, expected in ((False, [("denies pain", False), ("no fever", False)]),
                           (True, [("pain", True), ("fever", True)])):
        nlp = with_negex(tiny_cnn, trim_cues=trim)
        text = "The patient denies pain. She has no fever."
        doc = nlp.make_doc(text)
        doc.set_ents([doc.char_span(12, 23, "SYMPTOM"), doc.char_span(text.index("no"), len(text) - 1, "SIGN")])
        for name in ("raredis_entity_guard", "sentencizer", "negex"):  # the components after the NER
            doc = nlp.get_pipe(name)(doc)
        assert [(e.text, e._.negex) for e in doc.ents] == expected


@pytest.mark.parametrize("ours_first", [False, True])
def test_sourced_into_a_pipeline_with_its_own_ner(tiny_cnn, tiny_corpus, ours_first):
    ours = spacy.load(tiny_cnn)
    ours.replace_listeners("tok2vec", "ner", ["model.tok2vec"])  # the ner carries its own tok2vec copy
    reference = spacy.load(tiny_cnn)
    add_guards(reference)
    corpus = [d.text for d in DocBin().from_disk(tiny_corpus / "train.spacy").get_docs(reference.vocab)]
    theirs = drug_ner(corpus[:30])
    combined = drug_ner(corpus[:30])
    where = {"before": "ner"} if ours_first else {"after": "ner"}
    combined.add_pipe("ner", name="raredis_ner", source=ours, **where)
    add_guards(combined)
    assert combined.pipe_names == (["raredis_boundaries", "raredis_ner", "ner", "raredis_entity_guard"] if ours_first
                                   else ["raredis_boundaries", "ner", "raredis_ner", "raredis_entity_guard"])
    texts = [d.text for d in DocBin().from_disk(tiny_corpus / "test.spacy").get_docs(reference.vocab)][:20]
    n_ours = n_compared = 0
    for text in texts:
        if not theirs(text).ents:  # no drug found: our entities as in our own pipeline
            got = [(e.start_char, e.end_char, e.label_) for e in combined(text).ents if e.label_ != "DRUG"]
            assert got == [(e.start_char, e.end_char, e.label_) for e in reference(text).ents]
            n_ours += len(got)
            n_compared += 1
    assert n_compared >= 5 and n_ours > 0
    first = theirs if not ours_first else reference
    for text in ["Started on aspirin today. " + t for t in texts[:5]]:
        kept = [(e.start_char, e.end_char, e.label_) for e in first(text).ents]
        both = [(e.start_char, e.end_char, e.label_) for e in combined(text).ents]
        assert set(kept) <= set(both)  # the earlier ner's entities stay, the later one adds around them
    assert any(e.label_ == "DRUG" for e in combined("Started on aspirin today.").ents)
