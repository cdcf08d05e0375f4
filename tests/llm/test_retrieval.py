"""Retrieval knowledge base over training documents (real all-MiniLM-L6-v2 embeddings)."""

import numpy as np
import pytest
import spacy
from spacy.tokens import Doc, DocBin

import raredis_llm.llm  # noqa: F401
from raredis_llm.corpus import schema
from raredis_llm.llm.embeddings import SentenceEmbedder
from raredis_llm.llm.retrieval import Retriever, chunk_bounds, make_retriever, window_bounds

TRAIN_DOCS = {
    "Fabry-Disease": [
        "Fabry disease is a rare inherited disorder of lipid metabolism.",
        "It results from a deficiency of the enzyme alpha-galactosidase A.",
        "Affected males develop burning pain in the hands and feet during childhood.",
        "Small dark red spots called angiokeratomas appear on the skin.",
        "Later in life, kidney failure, heart disease and strokes may occur.",
    ],
    "Rett-Syndrome": [
        "Rett syndrome is a progressive neurological disorder that almost only affects girls.",
        "After normal early development, children lose purposeful hand skills and speech.",
        "Repetitive hand-wringing movements are characteristic.",
        "Breathing irregularities and seizures are common.",
    ],
    "Hemophilia-A": [
        "Hemophilia A is a genetic bleeding disorder caused by low levels of clotting factor VIII.",
        "People with the disorder bleed for longer after injuries or surgery.",
        "Bleeding into joints causes swelling and, over time, joint damage.",
    ],
}
TEST_DOCS = {
    "Gaucher-Disease": [
        "Gaucher disease is caused by a deficiency of the enzyme glucocerebrosidase.",
        "An enlarged liver and spleen and bone pain are frequent findings.",
    ],
}
MENTIONS = {"Fabry disease": "RAREDISEASE", "burning pain": "SYMPTOM", "angiokeratomas": "SIGN",
            "Rett syndrome": "RAREDISEASE", "seizures": "SIGN", "Hemophilia A": "RAREDISEASE",
            "Gaucher disease": "RAREDISEASE", "bone pain": "SYMPTOM"}


def make_document(nlp, doc_id, sentences) -> Doc:
    text = " ".join(sentences)
    doc = nlp.make_doc(text)
    ents = []
    for phrase, label in MENTIONS.items():
        pos = text.find(phrase)
        if pos != -1:
            ents.append(doc.char_span(pos, pos + len(phrase), label=label))
    doc.ents = sorted(ents, key=lambda e: e.start)
    doc.user_data[schema.DOC_ID] = doc_id
    doc.user_data[schema.SENT_INDEX] = -1
    return doc


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


@pytest.fixture(scope="module")
def train_docs(nlp):
    return [make_document(nlp, d, s) for d, s in TRAIN_DOCS.items()]


@pytest.fixture(scope="module")
def embedder():
    return SentenceEmbedder()


@pytest.fixture(scope="module")
def retriever(embedder, train_docs):
    r = make_retriever(embedder=embedder, top_k=2, chunk_tokens=30, window_tokens=16)
    r.initialize(train_docs)
    return r


def test_chunk_bounds(nlp):
    doc = nlp.make_doc(" ".join(TRAIN_DOCS["Fabry-Disease"]) + "\n")
    bounds = chunk_bounds(doc, 30)
    assert len(bounds) > 1
    assert all(0 < e - s <= 30 for s, e in bounds)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(doc) - 1  # trailing newline dropped
    for (s1, e1), (s2, e2) in zip(bounds, bounds[1:]):
        assert e1 <= s2
        # cut after a sentence end when the chunk's second half has one
        has_end = any(t.text.endswith(".") for t in doc[s1 + 15:e1])
        assert doc[e1 - 1].text.endswith(".") or not has_end
    assert doc[bounds[0][1] - 1].text == "A."  # "A." ends a sentence too
    assert chunk_bounds(doc, 10_000) == [(0, len(doc) - 1)]


def test_window_bounds():
    assert window_bounds(0, 10, 16) == [(0, 10)]
    windows = window_bounds(5, 45, 16)
    assert windows[0] == (5, 21) and windows[-1][1] == 45
    assert all(b[0] - a[0] == 8 for a, b in zip(windows, windows[1:]))


def test_passage_sentence_retrieves_its_passage_first(retriever, train_docs, nlp):
    assert retriever.chunks and len(retriever.chunks) > len(train_docs)
    for chunk in retriever.chunks:
        for sentence in [s for sents in TRAIN_DOCS.values() for s in sents if s in chunk["text"]]:
            top = retriever.retrieve([nlp.make_doc(sentence)])[0]
            assert len(top) == 2
            assert top[0]["text"] == chunk["text"]
            assert top[0]["score"] >= top[1]["score"]


def test_chunks_keep_gold_spans(retriever):
    for chunk in retriever.chunks:
        for s, e, label in chunk["spans"]:
            assert MENTIONS[chunk["text"][s:e]] == label


def test_test_documents_never_enter_the_knowledge_base(tmp_path, nlp, embedder):
    """The KB is built from the reader of training *documents* the config names."""
    train_path, test_path = tmp_path / "train_docs.spacy", tmp_path / "test_docs.spacy"
    DocBin(docs=[make_document(nlp, d, s) for d, s in TRAIN_DOCS.items()],
           store_user_data=True).to_disk(train_path)
    DocBin(docs=[make_document(nlp, d, s) for d, s in TEST_DOCS.items()],
           store_user_data=True).to_disk(test_path)
    pipe_nlp = spacy.blank("en")
    pipe_nlp.add_pipe("llm", config={
        "task": {"@llm_tasks": "raredis.NER.v1",
                 "retriever": {"@misc": "raredis.Retriever.v1", "chunk_tokens": 30,
                               "embedder": {"@misc": "raredis.SentenceEmbedder.v1"}}},
        "model": {"@llm_models": "spacy.NoOp.v1"}})
    pipe_nlp.config["initialize"]["components"]["llm"] = {
        "knowledge_base": {"@readers": "spacy.Corpus.v1", "path": str(train_path), "gold_preproc": False}}
    pipe_nlp.initialize()
    kb = pipe_nlp.get_pipe("llm").task.retriever
    assert set(kb.doc_ids) == set(TRAIN_DOCS)
    assert not set(kb.doc_ids) & set(TEST_DOCS)
    test_sentences = [pipe_nlp.make_doc(s) for s in TEST_DOCS["Gaucher-Disease"]]
    for passages in kb.retrieve(test_sentences):
        assert {p["doc_id"] for p in passages} <= set(TRAIN_DOCS)
    assert "Gaucher" not in " ".join(c["text"] for c in kb.chunks)


def test_exclude_same_doc(embedder, train_docs, nlp):
    r = make_retriever(embedder=embedder, top_k=2, chunk_tokens=30, exclude_same_doc=True)
    r.initialize(train_docs)
    query = nlp.make_doc(TRAIN_DOCS["Rett-Syndrome"][2])
    query.user_data[schema.DOC_ID] = "Rett-Syndrome"
    assert all(p["doc_id"] != "Rett-Syndrome" for p in r.retrieve([query])[0])


def test_annotated_context_rendering(train_docs, embedder, nlp):
    from raredis_llm.llm.task import make_raredis_ner_task

    r = make_retriever(embedder=embedder, top_k=1, chunk_tokens=30, annotated=True)
    r.initialize(train_docs)
    task = make_raredis_ner_task(retriever=r)
    passages = r.retrieve([nlp.make_doc(TRAIN_DOCS["Fabry-Disease"][0])])[0]
    context = task.render_context(passages)
    assert context.startswith("Background passages")
    assert "[1] <RAREDISEASE>Fabry disease</RAREDISEASE> is a rare inherited disorder" in context


def test_retriever_serialization(tmp_path, retriever, embedder, nlp):
    retriever.to_disk(tmp_path / "kb")
    assert (tmp_path / "kb" / "window_embeddings.npy").exists()
    loaded = Retriever(embedder=embedder, chunk_tokens=30, window_tokens=16).from_disk(tmp_path / "kb")
    query = [nlp.make_doc("Children lose hand skills.")]
    assert loaded.retrieve(query) == retriever.retrieve(query)
    from_bytes = Retriever(embedder=embedder, chunk_tokens=30, window_tokens=16).from_bytes(retriever.to_bytes())
    assert np.array_equal(from_bytes.window_embeddings, retriever.window_embeddings)
    with pytest.raises(ValueError, match="chunk_tokens"):
        Retriever(embedder=embedder, chunk_tokens=512, window_tokens=16).from_disk(tmp_path / "kb")


def test_retriever_errors(embedder, nlp):
    with pytest.raises(ValueError, match="knowledge base is empty"):
        Retriever(embedder=embedder).initialize([])
    with pytest.raises(ValueError, match="no knowledge base"):
        Retriever(embedder=embedder).retrieve([nlp.make_doc("x")])
