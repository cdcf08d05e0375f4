"""Supervised NER baselines (spaCy CNN and spacy-transformers), trained with ``spacy train``.

Importing this package registers ``raredis.TransformerModel.v1``.
"""

from .architectures import create_transformer_model_v1, resolve_encoder_name

__all__ = ["create_transformer_model_v1", "resolve_encoder_name"]
