"""Few-shot example selection with real all-MiniLM-L6-v2 embeddings."""

import numpy as np
import pytest
import spacy
from spacy.tokens import Doc

from raredis_llm.corpus import schema
from raredis_llm.llm.embeddings import SentenceEmbedder, top_k
from raredis_llm.llm.examples import (
    ClusterExamples,
    KNNExamples,
    RandomExamples,
    make_cluster_examples,
    make_knn_examples,
    make_random_examples,
)

POOL = [
    # skin
    ("SKIN-1", "Epidermolysis bullosa causes fragile skin that blisters after minor friction.", [("Epidermolysis bullosa", "SKINRAREDISEASE"), ("blisters", "SIGN")]),
    ("SKIN-1", "Painful blisters and erosions appear on the skin of the hands and feet.", [("blisters", "SIGN"), ("erosions", "SIGN")]),
    ("SKIN-2", "Harlequin ichthyosis presents with thick plate-like scales covering the skin at birth.", [("Harlequin ichthyosis", "SKINRAREDISEASE"), ("thick plate-like scales", "SIGN")]),
    ("SKIN-2", "Dry, scaly skin and itching are the main complaints of people with ichthyosis.", [("Dry, scaly skin", "SIGN"), ("itching", "SYMPTOM"), ("ichthyosis", "SKINRAREDISEASE")]),
    # kidney
    ("KID-1", "Alport syndrome damages the kidneys and leads to blood in the urine.", [("Alport syndrome", "RAREDISEASE"), ("blood in the urine", "SIGN")]),
    ("KID-1", "Kidney failure often develops in young adults with Alport syndrome.", [("Kidney failure", "DISEASE"), ("Alport syndrome", "RAREDISEASE")]),
    ("KID-2", "Cystinosis causes cystine crystals to build up in the kidneys, leading to renal Fanconi syndrome.", [("Cystinosis", "RAREDISEASE"), ("renal Fanconi syndrome", "RAREDISEASE")]),
    # neuro
    ("NEU-1", "Rett syndrome is a neurological disorder that causes loss of speech and hand skills in girls.", [("Rett syndrome", "RAREDISEASE"), ("loss of speech", "SIGN")]),
    ("NEU-1", "Seizures and repetitive hand-wringing movements are common in Rett syndrome.", [("Seizures", "SIGN"), ("repetitive hand-wringing movements", "SIGN"), ("Rett syndrome", "RAREDISEASE")]),
    ("NEU-2", "Dravet syndrome begins in infancy with prolonged seizures triggered by fever.", [("Dravet syndrome", "RAREDISEASE"), ("prolonged seizures", "SIGN"), ("fever", "SIGN")]),
    # blood
    ("BLD-1", "Hemophilia A is a bleeding disorder caused by a lack of clotting factor VIII.", [("Hemophilia A", "RAREDISEASE"), ("bleeding disorder", "DISEASE")]),
    ("BLD-1", "People with hemophilia bruise easily and bleed into their joints.", [("hemophilia", "RAREDISEASE"), ("bruise easily", "SIGN")]),
    # no entities
    ("GEN-1", "The disorder is inherited as an autosomal recessive trait.", []),
    ("GEN-1", "Approximately 500 affected individuals have been reported in the medical literature.", []),
    ("GEN-2", "The disorder is inherited as an autosomal recessive trait.", []),  # duplicate text
]

QUERIES_SKIN = ["Blistering of the skin starts at birth in children with this skin disease.",
                "The skin is covered with large scales and feels very dry."]
QUERIES_KIDNEY = ["Protein and blood were found in the urine, a sign of kidney damage.",
                  "Both kidneys stopped working, and dialysis was needed."]


def make_doc(nlp, doc_id, text, mentions) -> Doc:
    doc = nlp.make_doc(text)
    ents, pos = [], 0
    for phrase, label in mentions:
        start = text.index(phrase, pos)
        pos = start + len(phrase)
        ents.append(doc.char_span(start, pos, label=label, alignment_mode="expand"))
    doc.ents = ents
    doc.user_data[schema.DOC_ID] = doc_id
    return doc


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


@pytest.fixture(scope="module")
def pool_docs(nlp):
    return [make_doc(nlp, d, t, m) for d, t, m in POOL]


@pytest.fixture(scope="module")
def embedder():
    return SentenceEmbedder()  # offline:all-MiniLM-L6-v2


@pytest.fixture(scope="module")
def knn(embedder, pool_docs):
    selector = make_knn_examples(embedder=embedder, k=5)
    selector.initialize(pool_docs)
    return selector


def test_embedder_is_normalised(embedder):
    vectors = embedder(["Fabry disease", "pain in the hands"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder([]).shape == (0, 384)


def test_top_k_order_and_ties():
    assert list(top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3)) == [1, 3, 2]
    assert list(top_k(np.array([0.1]), 5)) == [0]


def test_knn_nearest_is_itself_and_in_distance_order(knn, pool_docs, embedder):
    pool_vectors = embedder([d.text for d in pool_docs])
    picked = knn.select(pool_docs)
    for doc, examples, vector in zip(pool_docs, picked, pool_vectors):
        assert len(examples) == 5
        assert examples[0]["text"] == doc.text  # itself (or its duplicate)
        assert examples[0]["score"] == pytest.approx(1.0, abs=1e-4)
        scores = [eg["score"] for eg in examples]
        assert scores == sorted(scores, reverse=True)
        # same order as brute force cosine similarity
        expected = np.argsort(-(pool_vectors @ vector), kind="stable")[:5]
        assert [eg["text"] for eg in examples] == [pool_docs[i].text for i in expected]


def test_knn_examples_carry_gold_spans(knn, pool_docs):
    first = knn.select([pool_docs[2]])[0][0]
    text = first["text"]
    assert [(text[s:e], label) for s, e, label in first["spans"]] == [
        ("Harlequin ichthyosis", "SKINRAREDISEASE"), ("thick plate-like scales", "SIGN")]
    assert first["doc_id"] == "SKIN-2"


def test_knn_topic(knn, nlp):
    examples = knn.select([nlp.make_doc(QUERIES_KIDNEY[0])])[0]
    assert examples[0]["doc_id"].startswith("KID")


def test_knn_exclusions(embedder, pool_docs):
    selector = make_knn_examples(embedder=embedder, k=3, exclude_same_doc=True)
    selector.initialize(pool_docs)
    for doc, examples in zip(pool_docs, selector.select(pool_docs)):
        assert all(eg["doc_id"] != doc.user_data[schema.DOC_ID] for eg in examples)
    selector = make_knn_examples(embedder=embedder, k=3, exclude_identical=True)
    selector.initialize(pool_docs)
    for doc, examples in zip(pool_docs, selector.select(pool_docs)):
        assert all(eg["text"] != doc.text for eg in examples)


def test_random_examples(pool_docs, nlp):
    selector = make_random_examples(k=4, seed=7)
    selector.initialize(pool_docs)
    a, b = selector.select([nlp.make_doc("x"), nlp.make_doc("y")])
    assert a == b and len(a) == 4
    assert all(eg["spans"] for eg in a)  # min_entities = 1
    other = make_random_examples(k=4, seed=7)
    other.initialize(pool_docs)
    assert other.select([nlp.make_doc("z")])[0] == a
    different = make_random_examples(k=4, seed=8)
    different.initialize(pool_docs)
    assert different.select([nlp.make_doc("z")])[0] != a
    big = make_random_examples(k=100)
    big.initialize(pool_docs)
    assert len(big.pool) == sum(1 for _, _, m in POOL if m)


def test_cluster_examples(embedder, pool_docs, nlp):
    selector = make_cluster_examples(embedder=embedder, k=3, n_clusters=2)
    selector.initialize(pool_docs)
    queries = [nlp.make_doc(t) for t in (QUERIES_SKIN[0], QUERIES_KIDNEY[0], QUERIES_SKIN[1], QUERIES_KIDNEY[1])]
    picked = selector.select(queries)
    assignment, _ = selector.cluster(embedder([d.text for d in queries]))
    assert assignment[0] == assignment[2] != assignment[1] == assignment[3]
    assert picked[0] == picked[2] and picked[1] == picked[3] and picked[0] != picked[1]
    assert picked[0][0]["doc_id"].startswith("SKIN") and picked[1][0]["doc_id"].startswith("KID")
    # the shared examples are the k nearest to the cluster centroid (mean of its members)
    vectors = embedder([d.text for d in queries])
    pool_vectors = embedder([d.text for d in pool_docs])
    for members, examples in (([0, 2], picked[0]), ([1, 3], picked[1])):
        centroid = vectors[members].mean(axis=0)
        centroid /= np.linalg.norm(centroid)
        expected = np.argsort(-(pool_vectors @ centroid), kind="stable")[:3]
        assert [eg["text"] for eg in examples] == [pool_docs[i].text for i in expected]
        scores = [eg["score"] for eg in examples]
        assert scores == sorted(scores, reverse=True)


def test_cluster_single_input_is_knn(embedder, pool_docs, knn):
    selector = make_cluster_examples(embedder=embedder, k=5, n_clusters=8)
    selector.initialize(pool_docs)
    doc = pool_docs[4]
    assert [e["text"] for e in selector.select([doc])[0]] == [e["text"] for e in knn.select([doc])[0]]
    assert selector.select([]) == []


def test_selector_serialization(tmp_path, knn, embedder, pool_docs):
    knn.to_disk(tmp_path / "examples")
    assert (tmp_path / "examples" / "embeddings.npy").exists()
    loaded = KNNExamples(embedder=embedder, k=5).from_disk(tmp_path / "examples")
    assert np.array_equal(loaded.pool.embeddings, knn.pool.embeddings)
    assert loaded.select(pool_docs[:3]) == knn.select(pool_docs[:3])
    from_bytes = KNNExamples(embedder=embedder, k=5).from_bytes(knn.to_bytes())
    assert from_bytes.select(pool_docs[:2]) == knn.select(pool_docs[:2])
    with pytest.raises(ValueError, match="selector 'knn'"):
        RandomExamples().from_disk(tmp_path / "examples")
    with pytest.raises(ValueError, match="embedder"):
        KNNExamples(embedder=SentenceEmbedder(model="other-model"), k=5).from_disk(tmp_path / "examples")


def test_selector_errors(embedder, nlp):
    with pytest.raises(ValueError, match="k must be at least 1"):
        RandomExamples(k=0)
    with pytest.raises(ValueError, match="no annotated entities"):
        RandomExamples().initialize([nlp.make_doc("x y z")])
    with pytest.raises(ValueError, match="no example pool"):
        KNNExamples(embedder=embedder).select([nlp.make_doc("x")])
    with pytest.raises(ValueError, match="n_clusters"):
        ClusterExamples(embedder=embedder, n_clusters=0)


def test_embedder_cache_is_shared_by_index_builds_only(embedder, tmp_path):
    texts = ["Fabry disease causes pain.", "Patients develop ataxia.", "No fever."]
    cached = SentenceEmbedder(cache_dir=str(tmp_path / "emb"))
    first = cached(texts, cache=True)
    path = cached.cache_path(texts)
    assert path is not None and path.exists()
    assert np.array_equal(np.load(path), first)
    assert np.allclose(first, embedder(texts), atol=1e-6)
    # another embedder with the same settings reads the file instead of the model
    marker = np.full_like(first, 0.5)
    np.save(path, marker)
    assert np.array_equal(SentenceEmbedder(cache_dir=str(tmp_path / "emb"))(texts, cache=True), marker)
    # queries are never cached; other texts or another model get another file
    assert np.allclose(cached(texts), first, atol=1e-6)
    assert len(list((tmp_path / "emb").iterdir())) == 1
    assert cached.cache_path(texts[:2]) != path
    assert SentenceEmbedder(model="other", cache_dir=str(tmp_path / "emb")).cache_path(texts) != path
    assert SentenceEmbedder().cache_path(texts) is None
