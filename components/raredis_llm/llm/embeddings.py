"""Sentence embeddings for example selection and retrieval (sentence-transformers).

``raredis.SentenceEmbedder.v1`` gives a callable ``texts -> float32 array (n, dim)``,
rows L2-normalised (so a dot product is the cosine similarity). The model loads lazily on
the first call and is shared by every embedder with the same model and device, so a
kNN selector and a retriever in one pipeline load it once.
"""

import threading
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from spacy.util import registry

from ..models.offline import MINILM_ALIAS, resolve_model

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
                 normalize: bool = True, max_seq_length: Optional[int] = None):
        self.model_name = str(model)
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

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model().encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True,
            normalize_embeddings=self.normalize, show_progress_bar=len(texts) > 5 * self.batch_size,
        )
        return np.asarray(vectors, dtype=np.float32)

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
) -> SentenceEmbedder:
    """Sentence-transformers embedder.

    model: offline alias (``"offline:all-MiniLM-L6-v2"``), local folder or Hub id (offline
    runs need a local one). device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``.
    """
    return SentenceEmbedder(model=model, device=device, batch_size=batch_size, normalize=normalize)


def top_k(similarities: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest values of a 1-d array, largest first (ties: lower index)."""
    n = similarities.shape[0]
    k = min(int(k), n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    # stable sort on the negated values keeps lower indices first among equal scores
    return np.argsort(-similarities, kind="stable")[:k]
