"""Knowledge features for the supervised taggers: dictionary matches as token features.

``raredis.KnowledgeFeatures.v1`` reads the spans a ``raredis_dictionary`` component wrote
to ``doc.spans[spans_key]`` (run it before the tagger, ``write_ents = false``, and list it
in ``[training] annotating_components`` so the training Docs carry the matches too) and
gives each token a 0/1 vector: for every span label, "begins a match" and "inside a
match". ``raredis.Tok2VecWithKnowledge.v1`` concatenates these columns to a tok2vec's
output, so the NER model reads both::

    [components.ner.model.tok2vec]
    @architectures = "raredis.Tok2VecWithKnowledge.v1"

    [components.ner.model.tok2vec.tok2vec]
    @architectures = "spacy.Tok2VecListener.v1"      # or the transformer listener
    ...

    [components.ner.model.tok2vec.features]
    @architectures = "raredis.KnowledgeFeatures.v1"
    spans_key = "raredis_kb"

``raredis.EmbedWithKnowledge.v1`` instead mixes them into a tok2vec's embeddings, before
its encoder, so the encoder sees them in context.
"""

from pathlib import Path
from typing import Callable, List, Sequence, Tuple, Union

import numpy as np
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Maxout, Model, chain, concatenate, with_array
from thinc.types import Floats2d

from ..labels import LABELS
from .dictionary import GROUP_LABELS

DEFAULT_SPANS_KEY = "raredis_kb"


def feature_matrix(doc: Doc, spans_key: str, labels: Sequence[str]) -> np.ndarray:
    """(len(doc), 2 * len(labels)) float32: columns ``2i`` / ``2i+1`` mark the first /
    following tokens of matches labelled ``labels[i]``; other labels are ignored."""
    index = {label: i for i, label in enumerate(labels)}
    out = np.zeros((len(doc), 2 * len(labels)), dtype="float32")
    if spans_key in doc.spans:
        for span in doc.spans[spans_key]:
            col = index.get(span.label_)
            if col is None:
                continue
            out[span.start, 2 * col] = 1.0
            out[span.start + 1:span.end, 2 * col + 1] = 1.0
    return out


def span_labels_of(labels: Sequence[str]) -> str:
    """The dictionary's ``span_labels`` setting that produces ``labels``: ``"group"`` for
    concept groups, ``"type"`` for RareDis types (a mix of both is an error)."""
    if labels and set(labels) <= set(GROUP_LABELS):
        return "group"
    if labels and set(labels) <= set(LABELS):
        return "type"
    raise ValueError(f"knowledge feature labels {list(labels)} must all be concept groups {list(GROUP_LABELS)} "
                     f"or all RareDis types {list(LABELS)}")


def load_feature_pipeline(path: Union[str, Path], spans_key: str, labels: Sequence[str]):
    """The ``raredis_dictionary`` component(s) of a saved pipeline (``spacy project run
    dictionary`` writes one to ``training/dictionary``), loaded alone and set to write their
    matches to ``doc.spans[spans_key]`` labelled as ``labels`` need, not ``doc.ents``: the
    annotating pipeline of a tagger that reads knowledge features."""
    import spacy
    from spacy.util import load_config

    path = Path(path)
    if not (path / "config.cfg").exists():
        raise FileNotFoundError(f"{path}: not a saved spaCy pipeline (no config.cfg); build the dictionary "
                                "with `spacy project run dictionary`")
    config = load_config(path / "config.cfg")
    names = [n for n in config["nlp"]["pipeline"]
             if config["components"].get(n, {}).get("factory") == "raredis_dictionary"]
    if not names:
        raise ValueError(f"{path}: no raredis_dictionary component (pipeline: {config['nlp']['pipeline']})")
    settings = {"write_ents": False, "spans_key": spans_key, "span_labels": span_labels_of(labels)}
    overrides = {f"components.{n}.{k}": v for n in names for k, v in settings.items()}
    others = [n for n in config["nlp"]["pipeline"] if n not in names]
    return spacy.load(path, exclude=others, config=overrides)


def _forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    key, labels = model.attrs["spans_key"], model.attrs["labels"]
    outputs = [model.ops.asarray2f(feature_matrix(doc, key, labels)) for doc in docs]
    return outputs, lambda d_outputs: []


@registry.architectures("raredis.KnowledgeFeatures.v1")
def knowledge_features(spans_key: str = DEFAULT_SPANS_KEY,
                       labels: List[str] = list(GROUP_LABELS)) -> Model[List[Doc], List[Floats2d]]:
    """Per-token begin/inside indicators of the dictionary matches in ``doc.spans[spans_key]``
    (``labels``: the span labels to encode; default the dictionary's concept groups)."""
    if not labels:
        raise ValueError("raredis.KnowledgeFeatures.v1: no labels to encode")
    return Model("knowledge_features", _forward, dims={"nO": 2 * len(labels)},
                 attrs={"spans_key": spans_key, "labels": list(labels)})


@registry.architectures("raredis.Tok2VecWithKnowledge.v1")
def tok2vec_with_knowledge(tok2vec: Model[List[Doc], List[Floats2d]],
                           features: Model[List[Doc], List[Floats2d]]) -> Model[List[Doc], List[Floats2d]]:
    """``tok2vec``'s vectors with the knowledge ``features`` concatenated to each token's."""
    model = concatenate(tok2vec, features)
    if tok2vec.has_dim("nO") and features.has_dim("nO"):
        model.set_dim("nO", tok2vec.get_dim("nO") + features.get_dim("nO"))
    return model


@registry.architectures("raredis.EmbedWithKnowledge.v1")
def embed_with_knowledge(embed: Model[List[Doc], List[Floats2d]],
                         features: Model[List[Doc], List[Floats2d]],
                         width: int) -> Model[List[Doc], List[Floats2d]]:
    """An embedding layer (``spacy.MultiHashEmbed.v2``) whose output is mixed with the
    knowledge ``features`` by a Maxout back to ``width``: the features enter *before* the
    encoder, which then sees them in context (use it as the ``embed`` of a tok2vec)."""
    n_features = features.get_dim("nO")
    return chain(concatenate(embed, features),
                 with_array(Maxout(width, width + n_features, nP=3, normalize=True)))
