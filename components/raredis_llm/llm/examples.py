"""Few-shot example selection: random (fixed), semantic kNN, cluster kNN.

Every selector is a registered function returning an :class:`ExampleSelector`. The task
calls ``selector.initialize(docs)`` once (at ``nlp.initialize``) with the training docs
(sentence docs with gold ``doc.ents``); the selector keeps an :class:`ExamplePool` of
``(text, spans)`` and, when it needs one, an embedding index, and saves both with the
pipeline (``to_disk``: ``cfg.json``, ``pool.jsonl``, ``embeddings.npy``), so a loaded
pipeline selects examples without the corpus. At inference ``selector.select(docs)``
returns, for each doc of a batch, a list of examples (dicts with ``text``, ``spans``,
``doc_id``, ``score``), nearest first where there is a distance.

* ``raredis.RandomExamples.v1``: the same ``k`` seeded random training sentences for
  every input (Lu et al. 2024: k = 5).
* ``raredis.KNNExamples.v1``: for each input, its ``k`` nearest training sentences by
  cosine similarity of sentence embeddings, nearest first (Xi et al. 2025, Inquiry-KNN).
* ``raredis.ClusterExamples.v1``: k-means over the embeddings of the inputs of one batch;
  every input of a cluster gets the ``k`` training sentences nearest to the cluster
  centroid (Xi et al. 2025, Cluster-KNN).
"""

import io
import random
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union, cast

import numpy as np
import srsly
from spacy.tokens import Doc
from spacy.util import ensure_path, registry

from ..corpus import schema
from .embeddings import SentenceEmbedder, top_k

Example = Dict[str, Any]


# ------------------------------------------------------------------------ arrays <-> bytes
def array_to_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def array_from_bytes(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


# ---------------------------------------------------------------------------------- pool
class ExamplePool:
    """Texts with gold spans ``(start, end, label)`` and optional embeddings (one row each)."""

    def __init__(self, records: Optional[List[Dict[str, Any]]] = None,
                 embeddings: Optional[np.ndarray] = None):
        self.records: List[Dict[str, Any]] = records or []
        self.embeddings = embeddings

    @classmethod
    def from_docs(cls, docs: Iterable[Doc], min_entities: int = 0) -> "ExamplePool":
        records = []
        for doc in docs:
            spans = [[ent.start_char, ent.end_char, ent.label_] for ent in doc.ents]
            if len(spans) < min_entities or not doc.text.strip():
                continue
            records.append({
                "text": doc.text,
                "spans": spans,
                "doc_id": doc.user_data.get(schema.DOC_ID),
                "sent_index": doc.user_data.get(schema.SENT_INDEX),
            })
        return cls(records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def texts(self) -> List[str]:
        return [r["text"] for r in self.records]

    def example(self, i: int, score: Optional[float] = None) -> Example:
        record = self.records[int(i)]
        return {
            "text": record["text"],
            "spans": [tuple(s) for s in record["spans"]],
            "doc_id": record.get("doc_id"),
            "score": None if score is None else float(score),
        }

    def subset(self, indices: Sequence[int]) -> "ExamplePool":
        emb = None if self.embeddings is None else self.embeddings[list(indices)]
        return ExamplePool([self.records[i] for i in indices], emb)

    def n_entities(self) -> int:
        return sum(len(r["spans"]) for r in self.records)

    # ---- serialization
    def to_disk(self, path: Path) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_jsonl(path / "pool.jsonl", self.records)
        emb = path / "embeddings.npy"
        if self.embeddings is not None:
            np.save(emb, self.embeddings, allow_pickle=False)
        elif emb.exists():
            emb.unlink()

    @classmethod
    def from_disk(cls, path: Path) -> "ExamplePool":
        path = ensure_path(path)
        records = list(srsly.read_jsonl(path / "pool.jsonl"))
        emb_path = path / "embeddings.npy"
        embeddings = np.load(emb_path, allow_pickle=False) if emb_path.exists() else None
        return cls(records, embeddings)

    def to_dict(self) -> Dict[str, Any]:
        return {"records": self.records,
                "embeddings": None if self.embeddings is None else array_to_bytes(self.embeddings)}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ExamplePool":
        emb = data.get("embeddings")
        return cls(list(data["records"]), None if emb is None else array_from_bytes(emb))


# ----------------------------------------------------------------------------- selectors
class ExampleSelector:
    """Base class. Subclasses set ``kind``, implement ``_build`` and ``select``."""

    kind = ""
    uses_embeddings = False

    def __init__(self, k: int, embedder: Optional[SentenceEmbedder] = None, min_entities: int = 0):
        if int(k) < 1:
            raise ValueError(f"{type(self).__name__}: k must be at least 1, got {k}")
        self.k = int(k)
        self.embedder = embedder
        #: training sentences with fewer gold entities are not in the pool
        self.min_entities = int(min_entities)
        self.pool: Optional[ExamplePool] = None

    # ---- lifecycle
    @property
    def is_initialized(self) -> bool:
        return self.pool is not None

    def initialize(self, docs: Iterable[Doc]) -> None:
        """Build the pool (and its index) from training docs with gold ``doc.ents``."""
        pool = ExamplePool.from_docs(docs, min_entities=self.min_entities)
        if len(pool) == 0 or pool.n_entities() == 0:
            raise ValueError(
                f"{self.kind}: the few-shot example pool has no annotated entities "
                f"({len(pool)} usable docs). Give the training corpus to the task, e.g. "
                "[initialize.components.llm.examples] @readers = \"spacy.Corpus.v1\" "
                "path = ${paths.train}"
            )
        self.pool = self._build(pool)

    def _build(self, pool: ExamplePool) -> ExamplePool:
        """Index the pool: selectors that use embeddings embed every pool sentence once."""
        if self.uses_embeddings:
            pool.embeddings = self._embed(pool.texts, cache=True)
        return pool

    def _require(self) -> ExamplePool:
        if self.pool is None:
            raise ValueError(
                f"{self.kind}: no example pool. Run nlp.initialize() (spacy assemble) with the "
                "training corpus, or load a pipeline saved after initialization."
            )
        return self.pool

    def _embed(self, texts: Sequence[str], cache: bool = False) -> np.ndarray:
        if self.embedder is None:
            raise ValueError(f"{self.kind} needs an embedder")
        return self.embedder(texts, cache=cache)

    def select(self, docs: Sequence[Doc]) -> List[List[Example]]:
        """For each doc, the examples to show (nearest first where it applies)."""
        raise NotImplementedError

    # ---- config / serialization
    def cfg(self) -> Dict[str, Any]:
        cfg: Dict[str, Any] = {"kind": self.kind, "k": self.k, "min_entities": self.min_entities}
        if self.embedder is not None:
            cfg["embedder"] = self.embedder.name
        return cfg

    def _check_loaded_cfg(self, cfg: Dict[str, Any]) -> None:
        if cfg.get("kind") != self.kind:
            raise ValueError(f"Saved examples are from selector '{cfg.get('kind')}', the config "
                             f"asks for '{self.kind}'")
        if self.embedder is not None and cfg.get("embedder") not in (None, self.embedder.name):
            raise ValueError(f"Saved example embeddings come from '{cfg.get('embedder')}', the "
                             f"config's embedder is '{self.embedder.name}'; re-run initialize")

    def to_disk(self, path: Union[str, Path]) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {**self.cfg(), "initialized": self.pool is not None})
        if self.pool is not None:
            self.pool.to_disk(path)

    def from_disk(self, path: Union[str, Path]) -> "ExampleSelector":
        path = ensure_path(path)
        cfg = srsly.read_json(path / "cfg.json")
        self._check_loaded_cfg(cfg)
        self.pool = ExamplePool.from_disk(path) if cfg.get("initialized") else None
        return self

    def to_bytes(self) -> bytes:
        return srsly.msgpack_dumps({"cfg": self.cfg(),
                                    "pool": None if self.pool is None else self.pool.to_dict()})

    def from_bytes(self, data: bytes) -> "ExampleSelector":
        msg = srsly.msgpack_loads(data)
        self._check_loaded_cfg(msg["cfg"])
        self.pool = None if msg["pool"] is None else ExamplePool.from_dict(msg["pool"])
        return self


class RandomExamples(ExampleSelector):
    """``k`` training sentences drawn once (seeded); the same for every input."""

    kind = "random"

    def __init__(self, k: int = 5, seed: int = 0, min_entities: int = 1):
        super().__init__(k, min_entities=min_entities)
        self.seed = int(seed)

    def _build(self, pool: ExamplePool) -> ExamplePool:
        rng = random.Random(self.seed)
        chosen = rng.sample(range(len(pool)), min(self.k, len(pool)))
        return pool.subset(chosen)

    def cfg(self) -> Dict[str, Any]:
        return {**super().cfg(), "seed": self.seed}

    def select(self, docs: Sequence[Doc]) -> List[List[Example]]:
        pool = self._require()
        examples = [pool.example(i) for i in range(len(pool))]
        return [list(examples) for _ in docs]


class KNNExamples(ExampleSelector):
    """The ``k`` nearest training sentences of each input, nearest first."""

    kind = "knn"
    uses_embeddings = True

    def __init__(self, embedder: SentenceEmbedder, k: int = 5, min_entities: int = 0,
                 exclude_same_doc: bool = False, exclude_identical: bool = False):
        super().__init__(k, embedder, min_entities=min_entities)
        self.exclude_same_doc = bool(exclude_same_doc)
        self.exclude_identical = bool(exclude_identical)

    def _mask(self, pool: ExamplePool, doc: Doc) -> Optional[np.ndarray]:
        if not (self.exclude_same_doc or self.exclude_identical):
            return None
        doc_id = doc.user_data.get(schema.DOC_ID)
        bad = np.zeros(len(pool), dtype=bool)
        for i, record in enumerate(pool.records):
            if self.exclude_same_doc and doc_id is not None and record.get("doc_id") == doc_id:
                bad[i] = True
            if self.exclude_identical and record["text"] == doc.text:
                bad[i] = True
        return bad

    def select(self, docs: Sequence[Doc]) -> List[List[Example]]:
        pool = self._require()
        if not docs:
            return []
        assert pool.embeddings is not None
        queries = self._embed([doc.text for doc in docs])
        sims = queries @ pool.embeddings.T
        out = []
        for doc, row in zip(docs, sims):
            mask = self._mask(pool, doc)
            if mask is not None:
                row = np.where(mask, -np.inf, row)
            idx = [i for i in top_k(row, self.k) if np.isfinite(row[i])]
            out.append([pool.example(i, row[i]) for i in idx])
        return out


class ClusterExamples(ExampleSelector):
    """k-means over a batch's inputs; each cluster shares the ``k`` examples nearest to
    its centroid (nearest first)."""

    kind = "cluster"
    uses_embeddings = True

    def __init__(self, embedder: SentenceEmbedder, k: int = 5, n_clusters: int = 8,
                 seed: int = 0, min_entities: int = 0):
        super().__init__(k, embedder, min_entities=min_entities)
        if int(n_clusters) < 1:
            raise ValueError(f"ClusterExamples: n_clusters must be at least 1, got {n_clusters}")
        self.n_clusters = int(n_clusters)
        self.seed = int(seed)

    def cfg(self) -> Dict[str, Any]:
        return {**super().cfg(), "n_clusters": self.n_clusters, "seed": self.seed}

    def cluster(self, vectors: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(cluster id per row, normalised centroids) for a batch of input embeddings."""
        n = vectors.shape[0]
        n_distinct = len({v.tobytes() for v in vectors})
        n_clusters = max(1, min(self.n_clusters, n_distinct))
        if n_clusters == 1:
            assignment = np.zeros(n, dtype=np.int64)
            centroids = vectors.mean(axis=0, keepdims=True)
        else:
            from sklearn.cluster import KMeans

            km = KMeans(n_clusters=n_clusters, n_init=10, random_state=self.seed)
            assignment = km.fit_predict(vectors.astype(np.float64))
            centroids = km.cluster_centers_.astype(np.float32)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        centroids = centroids / np.where(norms == 0, 1, norms)
        return assignment, centroids

    def select(self, docs: Sequence[Doc]) -> List[List[Example]]:
        pool = self._require()
        if not docs:
            return []
        assert pool.embeddings is not None
        assignment, centroids = self.cluster(self._embed([doc.text for doc in docs]))
        sims = centroids @ pool.embeddings.T
        per_cluster = [[pool.example(i, row[i]) for i in top_k(row, self.k)] for row in sims]
        return [list(per_cluster[c]) for c in assignment]


# ------------------------------------------------------------------------------ registry
@registry.misc("raredis.RandomExamples.v1")
def make_random_examples(k: int = 5, seed: int = 0, min_entities: int = 1) -> RandomExamples:
    """``k`` fixed random training sentences (seeded), from those with at least
    ``min_entities`` gold entities."""
    return RandomExamples(k=k, seed=seed, min_entities=min_entities)


@registry.misc("raredis.KNNExamples.v1")
def make_knn_examples(
    embedder: SentenceEmbedder,
    k: int = 5,
    min_entities: int = 0,
    exclude_same_doc: bool = False,
    exclude_identical: bool = False,
) -> KNNExamples:
    """Per input, the ``k`` nearest training sentences (cosine), nearest first.
    exclude_same_doc / exclude_identical: leave out pool sentences from the input's
    document (``doc.user_data[DOC_ID]``) / with the input's exact text (for runs on the
    training split)."""
    return KNNExamples(embedder=embedder, k=k, min_entities=min_entities,
                       exclude_same_doc=exclude_same_doc, exclude_identical=exclude_identical)


@registry.misc("raredis.ClusterExamples.v1")
def make_cluster_examples(
    embedder: SentenceEmbedder,
    k: int = 5,
    n_clusters: int = 8,
    seed: int = 0,
    min_entities: int = 0,
) -> ClusterExamples:
    """k-means (``n_clusters``, capped by the batch size) over each batch of inputs; the
    inputs of a cluster share the ``k`` training sentences nearest to its centroid."""
    return ClusterExamples(embedder=embedder, k=k, n_clusters=n_clusters, seed=seed,
                           min_entities=min_entities)
