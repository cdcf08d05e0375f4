"""Sentence embeddings for example selection and retrieval (sentence-transformers).

``raredis.SentenceEmbedder.v1`` gives a callable ``texts -> float32 array (n, dim)``,
rows L2-normalised (so a dot product is the cosine similarity). The model loads lazily on
the first call and is shared by every embedder with the same model and device, so a
kNN selector and a retriever in one pipeline load it once.

With ``cache_dir``, the embeddings of an index (a whole example pool, a knowledge base's
windows: calls with ``cache=True``) are kept on disk under a digest of the model and the texts, so the
strategies that embed the same training sentences (kNN, cluster, RAG + kNN) embed them
once per machine. A cached array is the one the model computed for the same texts.
"""

import hashlib
import logging
import threading
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from spacy.util import registry

from ..models.offline import MINILM_ALIAS, resolve_model

logger = logging.getLogger(__name__)

_MODELS: Dict[Tuple[str, str], object] = {}
_LOCK = threading.Lock()


def resolve_device(device: Optional[str] = "auto") -> str:
    """``"auto"`` (or empty): ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device in (None, "", "auto"):
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


class SentenceEmbedder:
    """Embeds texts with a sentence-transformers model (normalised float32 rows)."""

    def __init__(self, model: str = MINILM_ALIAS, device: str = "auto", batch_size: int = 64,
                 normalize: bool = True, max_seq_length: Optional[int] = None,
                 cache_dir: Optional[str] = None):
        self.model_name = str(model)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.device_setting = device
        self.batch_size = int(batch_size)
        self.normalize = bool(normalize)
        self.max_seq_length = max_seq_length

    @property
    def name(self) -> str:
        """Identifies the embedding space (stored with indexes, checked when loading)."""
        return self.model_name

    def _model(self):
        device = resolve_device(self.device_setting)
        key = (self.model_name, device)
        with _LOCK:
            model = _MODELS.get(key)
            if model is None:
                from sentence_transformers import SentenceTransformer

                path = resolve_model(self.model_name)
                model = SentenceTransformer(path, device=device)
                if self.max_seq_length:
                    model.max_seq_length = int(self.max_seq_length)
                _MODELS[key] = model
        return model

    @property
    def max_tokens(self) -> int:
        """How many word pieces the model reads per text (longer texts are truncated)."""
        return int(getattr(self._model(), "max_seq_length", 256) or 256)

    def __call__(self, texts: Sequence[str], cache: bool = False) -> np.ndarray:
        """Embeddings of ``texts``; ``cache``: an index build, read from / kept in ``cache_dir``
        (queries at inference are never cached)."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        path = self.cache_path(texts) if cache else None
        if path is not None and path.exists():
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(texts):
                logger.info("%d embeddings from the cache %s", len(texts), path)
                return vectors
        vectors = np.asarray(self._model().encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True,
            normalize_embeddings=self.normalize, show_progress_bar=len(texts) > 5 * self.batch_size,
        ), dtype=np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.npy")
            np.save(tmp, vectors, allow_pickle=False)
            tmp.replace(path)
        return vectors

    def cache_path(self, texts: Sequence[str]) -> Optional[Path]:
        """Where the embeddings of ``texts`` are cached (None: no ``cache_dir``)."""
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256()
        for part in (self.model_name, str(self.max_seq_length), str(self.normalize), str(self.batch_size)):
            digest.update(part.encode("utf8") + b"\0")
        for text in texts:
            digest.update(text.encode("utf8") + b"\0")
        return self.cache_dir / f"{digest.hexdigest()[:32]}.npy"

    @property
    def dim(self) -> int:
        model = self._model()
        getter = getattr(model, "get_sentence_embedding_dimension", None)
        return int(getter()) if getter else int(model.encode(["x"]).shape[1])


@registry.misc("raredis.SentenceEmbedder.v1")
def make_sentence_embedder(
    model: str = MINILM_ALIAS,
    device: str = "auto",
    batch_size: int = 64,
    normalize: bool = True,
    cache_dir: Optional[str] = None,
) -> SentenceEmbedder:
    """Sentence-transformers embedder.

    model: offline alias (``"offline:all-MiniLM-L6-v2"``), local folder or Hub id (offline
    runs need a local one). device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``.
    cache_dir: keep the embeddings of large calls (example pools, knowledge bases) on disk,
    shared by every pipeline that embeds the same texts with the same model (null: no cache).
    """
    return SentenceEmbedder(model=model, device=device, batch_size=batch_size, normalize=normalize,
                            cache_dir=cache_dir)


def top_k(similarities: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values of a 1-d array, largest first (ties: lower index)."""
    n = similarities.shape[0]
    k = min(int(k), n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    # stable sort on the negated values keeps lower indices first among equal scores
    return np.argsort(-similarities, kind="stable")[:k]
