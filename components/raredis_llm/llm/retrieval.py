"""Retrieval-augmented prompting: a knowledge base of training-document chunks.

``raredis.Retriever.v1`` builds, at ``nlp.initialize``, a knowledge base from the
*training* documents (the document-level DocBin ``corpus/docs/train.spacy``, given to the
task as ``[initialize.components.llm.knowledge_base]``; the test split never goes there):

* each document is cut into chunks of at most ``chunk_tokens`` spaCy tokens (default 512,
  after Lu et al. 2024), ending at a sentence end (``.``, ``?``, ``!``, line break) when one lies in
  the second half of the chunk;
* a sentence-transformers model reads far fewer word pieces than 512 tokens (MiniLM: 256),
  so each chunk is embedded as overlapping windows of ``window_tokens`` tokens (stride:
  half a window) and a chunk's score for a query is its best window's cosine similarity;
* the index (chunk texts and gold spans, window embeddings as ``.npy``) is saved with the
  pipeline and loaded by ``spacy.load``: nothing is recomputed and no corpus is needed.

At inference, ``retrieve(docs)`` returns for each doc its ``top_k`` chunks (default 2,
Lu et al.), best first, as dicts ``text``, ``spans``, ``doc_id``, ``score``.
"""

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import srsly
from spacy.tokens import Doc
from spacy.util import ensure_path, registry

from ..corpus import schema
from .embeddings import SentenceEmbedder, top_k
from .examples import array_from_bytes, array_to_bytes

_SENT_END = {".", "?", "!"}


def is_sentence_end(doc: Doc, i: int) -> bool:
    """Token ``i`` ends a sentence: it ends in ``.?!`` before whitespace (``"A."`` too),
    or it is a line break."""
    tok = doc[i]
    if tok.is_space:
        return "\n" in tok.text
    return tok.text[-1] in _SENT_END and (bool(tok.whitespace_) or i + 1 == len(doc)
                                          or doc[i + 1].is_space)


def chunk_bounds(doc: Doc, chunk_tokens: int) -> List[Tuple[int, int]]:
    """Token ranges ``[start, end)`` of consecutive chunks of at most ``chunk_tokens``
    tokens, cut after a sentence end when one is in the chunk's second half."""
    bounds = []
    start = 0
    n = len(doc)
    while start < n:
        end = min(start + chunk_tokens, n)
        if end < n:
            for i in range(end - 1, start + chunk_tokens // 2 - 1, -1):
                if is_sentence_end(doc, i):
                    end = i + 1
                    break
        lo, hi = start, end
        while lo < hi and doc[lo].is_space:
            lo += 1
        while hi > lo and doc[hi - 1].is_space:
            hi -= 1
        if lo < hi:
            bounds.append((lo, hi))
        start = end
    return bounds


def window_bounds(start: int, end: int, window: int) -> List[Tuple[int, int]]:
    """Overlapping token windows (stride ``window // 2``) covering ``[start, end)``."""
    if end - start <= window:
        return [(start, end)]
    stride = max(1, window // 2)
    out = []
    pos = start
    while True:
        stop = min(pos + window, end)
        out.append((pos, stop))
        if stop >= end:
            return out
        pos += stride


class Retriever:
    """Chunk index over training documents with max-over-windows cosine scoring."""

    def __init__(self, embedder: SentenceEmbedder, top_k: int = 2, chunk_tokens: int = 512,
                 window_tokens: int = 128, exclude_same_doc: bool = False,
                 annotated: bool = False):
        if int(top_k) < 1 or int(chunk_tokens) < 1 or int(window_tokens) < 1:
            raise ValueError("Retriever: top_k, chunk_tokens and window_tokens must be >= 1")
        self.embedder = embedder
        self.top_k = int(top_k)
        self.chunk_tokens = int(chunk_tokens)
        self.window_tokens = int(window_tokens)
        self.exclude_same_doc = bool(exclude_same_doc)
        self.annotated = bool(annotated)
        self.chunks: Optional[List[Dict[str, Any]]] = None
        self.window_embeddings: Optional[np.ndarray] = None
        self.window_chunk: Optional[np.ndarray] = None

    @property
    def is_initialized(self) -> bool:
        return self.chunks is not None

    def cfg(self) -> Dict[str, Any]:
        return {"kind": "retriever", "embedder": self.embedder.name, "top_k": self.top_k,
                "chunk_tokens": self.chunk_tokens, "window_tokens": self.window_tokens}

    @property
    def doc_ids(self) -> List[Any]:
        """Distinct source documents in the knowledge base, in order."""
        seen: Dict[Any, None] = {}
        for chunk in self.chunks or []:
            seen.setdefault(chunk.get("doc_id"), None)
        return list(seen)

    def initialize(self, docs: Iterable[Doc]) -> None:
        """Chunk and embed the (training) documents."""
        chunks: List[Dict[str, Any]] = []
        windows: List[str] = []
        window_chunk: List[int] = []
        for doc in docs:
            for t_start, t_end in chunk_bounds(doc, self.chunk_tokens):
                span = doc[t_start:t_end]
                c_start, c_end = span.start_char, span.end_char
                ents = [[e.start_char - c_start, e.end_char - c_start, e.label_]
                        for e in doc.ents if e.start >= t_start and e.end <= t_end]
                for w_start, w_end in window_bounds(t_start, t_end, self.window_tokens):
                    windows.append(doc[w_start:w_end].text)
                    window_chunk.append(len(chunks))
                chunks.append({"text": span.text, "spans": ents,
                               "doc_id": doc.user_data.get(schema.DOC_ID),
                               "char_offset": c_start})
        if not chunks:
            raise ValueError(
                "Retriever: the knowledge base is empty. Give the training documents to the "
                "task: [initialize.components.llm.knowledge_base] @readers = "
                "\"spacy.Corpus.v1\" path = ${paths.train_docs}"
            )
        self.window_embeddings = self.embedder(windows, cache=True)
        self.window_chunk = np.asarray(window_chunk, dtype=np.int64)
        self.chunks = chunks

    def _require(self) -> None:
        if self.chunks is None:
            raise ValueError("Retriever: no knowledge base. Run nlp.initialize() (spacy "
                             "assemble) with [initialize.components.llm.knowledge_base], or "
                             "load a pipeline saved after initialization.")

    def chunk_scores(self, texts: Sequence[str]) -> np.ndarray:
        """(n_texts, n_chunks) scores: best window cosine similarity per chunk."""
        self._require()
        assert self.window_embeddings is not None and self.window_chunk is not None
        sims = self.embedder(list(texts)) @ self.window_embeddings.T
        starts = np.flatnonzero(np.r_[True, np.diff(self.window_chunk) != 0])
        return np.maximum.reduceat(sims, starts, axis=1)

    def retrieve(self, docs: Sequence[Doc]) -> List[List[Dict[str, Any]]]:
        """For each doc, its ``top_k`` chunks, best first."""
        self._require()
        if not docs:
            return []
        assert self.chunks is not None
        scores = self.chunk_scores([doc.text for doc in docs])
        out = []
        for doc, row in zip(docs, scores):
            if self.exclude_same_doc and doc.user_data.get(schema.DOC_ID) is not None:
                doc_id = doc.user_data[schema.DOC_ID]
                bad = np.array([c.get("doc_id") == doc_id for c in self.chunks])
                row = np.where(bad, -np.inf, row)
            picked = [i for i in top_k(row, self.top_k) if np.isfinite(row[i])]
            out.append([{**self.chunks[i], "spans": [tuple(s) for s in self.chunks[i]["spans"]],
                         "score": float(row[i])} for i in picked])
        return out

    # ---- serialization
    def _check_loaded_cfg(self, cfg: Dict[str, Any]) -> None:
        if cfg.get("embedder") != self.embedder.name:
            raise ValueError(f"Saved knowledge base embeddings come from '{cfg.get('embedder')}', "
                             f"the config's embedder is '{self.embedder.name}'; re-run initialize")
        for key in ("chunk_tokens", "window_tokens"):
            if key in cfg and cfg[key] != getattr(self, key):
                raise ValueError(f"Saved knowledge base has {key}={cfg[key]}, the config says "
                                 f"{getattr(self, key)}; re-run initialize")

    def to_disk(self, path: Union[str, Path]) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {**self.cfg(), "initialized": self.is_initialized})
        if self.chunks is not None:
            srsly.write_jsonl(path / "chunks.jsonl", self.chunks)
            np.save(path / "window_embeddings.npy", self.window_embeddings, allow_pickle=False)
            np.save(path / "window_chunk.npy", self.window_chunk, allow_pickle=False)

    def from_disk(self, path: Union[str, Path]) -> "Retriever":
        path = ensure_path(path)
        cfg = srsly.read_json(path / "cfg.json")
        self._check_loaded_cfg(cfg)
        if cfg.get("initialized"):
            self.chunks = list(srsly.read_jsonl(path / "chunks.jsonl"))
            self.window_embeddings = np.load(path / "window_embeddings.npy", allow_pickle=False)
            self.window_chunk = np.load(path / "window_chunk.npy", allow_pickle=False)
        return self

    def to_bytes(self) -> bytes:
        data: Dict[str, Any] = {"cfg": self.cfg(), "chunks": self.chunks}
        if self.chunks is not None:
            data["window_embeddings"] = array_to_bytes(self.window_embeddings)
            data["window_chunk"] = array_to_bytes(self.window_chunk)
        return srsly.msgpack_dumps(data)

    def from_bytes(self, data: bytes) -> "Retriever":
        msg = srsly.msgpack_loads(data)
        self._check_loaded_cfg(msg["cfg"])
        self.chunks = msg["chunks"]
        if self.chunks is not None:
            self.window_embeddings = array_from_bytes(msg["window_embeddings"])
            self.window_chunk = array_from_bytes(msg["window_chunk"])
        return self


@registry.misc("raredis.Retriever.v1")
def make_retriever(
    embedder: SentenceEmbedder,
    top_k: int = 2,
    chunk_tokens: int = 512,
    window_tokens: int = 128,
    exclude_same_doc: bool = False,
    annotated: bool = False,
) -> Retriever:
    """Knowledge base of training-document chunks; ``top_k`` chunks per input go into the
    prompt. annotated: show the chunks with their gold mentions (in the inline format)
    instead of as plain text. exclude_same_doc: never retrieve the input's own document
    (for runs on the training split)."""
    return Retriever(embedder=embedder, top_k=top_k, chunk_tokens=chunk_tokens,
                     window_tokens=window_tokens, exclude_same_doc=exclude_same_doc,
                     annotated=annotated)
