"""Registered model architectures for the supervised baselines.

``raredis.TransformerModel.v1`` is ``spacy-transformers.TransformerModel.v3`` with one
difference: its ``name`` may be an offline alias (``"offline:all-MiniLM-L6-v2"``), which
is resolved to the locally extracted folder through
:func:`raredis_llm.models.offline.resolve_model`. Hugging Face ids
(``"emilyalsentzer/Bio_ClinicalBERT"``, ``"dmis-lab/biobert-v1.1"``) and local paths are
passed through unchanged, so swapping the encoder is one config value
(``--components.transformer.model.name``).

The alias is resolved lazily, only when the model is *initialized* (``spacy train``'s
initialize step), and the alias - not the cache folder - stays in the model's ``name``
attribute and in the pipeline's ``config.cfg``. A trained pipeline therefore reloads
from its own serialized weights/tokenizer (spacy-transformers stores both) without
resolving the alias, without the cache folder, and with ``HF_HUB_OFFLINE=1``.
"""

from typing import Callable, List

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.data_classes import FullTransformerBatch
from spacy_transformers.layers.transformer_model import TransformerModel
from spacy_transformers.layers.transformer_model import init as _transformer_init
from thinc.api import Model

from ..models.offline import resolve_model

OFFLINE_PREFIX = "offline:"


def resolve_encoder_name(name: str) -> str:
    """Map an ``offline:`` alias to a local folder; return other names unchanged.

    Raises ValueError for an unknown ``offline:`` alias (instead of letting
    ``transformers`` try to download a repo literally called ``offline:...``).
    """
    resolved = resolve_model(name, log=lambda *_: None)
    if resolved == name and name.startswith(OFFLINE_PREFIX):
        raise ValueError(
            f"Unknown offline encoder alias {name!r}. Known: 'offline:all-MiniLM-L6-v2'. "
            "Use a Hugging Face id (e.g. 'dmis-lab/biobert-v1.1') or a local folder instead."
        )
    return resolved


def _resolving_init(model: Model, X=None, Y=None):
    """spacy-transformers' init, with the alias in ``attrs['name']`` resolved for the call."""
    if model.attrs["has_transformer"]:
        return
    name = model.attrs["name"]
    model.attrs["name"] = resolve_encoder_name(name)
    try:
        _transformer_init(model, X=X, Y=Y)
    finally:
        model.attrs["name"] = name


@registry.architectures("raredis.TransformerModel.v1")
def create_transformer_model_v1(
    name: str,
    get_spans: Callable,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
) -> Model[List[Doc], FullTransformerBatch]:
    """A pretrained transformer to fine-tune (see spacy-transformers.TransformerModel.v3).

    name (str): An offline alias ("offline:all-MiniLM-L6-v2"), a Hugging Face model id,
        or a local folder holding a Hugging Face model with a fast tokenizer.
    Other arguments are passed to spacy-transformers' TransformerModel unchanged.
    """
    model = TransformerModel(
        name,
        get_spans,
        tokenizer_config,
        transformer_config,
        mixed_precision,
        grad_scaler_config,
    )
    model.init = _resolving_init
    return model
