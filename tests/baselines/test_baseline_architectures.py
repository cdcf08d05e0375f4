"""raredis.TransformerModel.v1: offline aliases resolve lazily, HF ids pass through."""

from pathlib import Path

import pytest
import spacy
from spacy.util import registry

from raredis_llm.baselines import create_transformer_model_v1, resolve_encoder_name
from raredis_llm.models.offline import MINILM_ALIAS

SPANS = {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128, "stride": 96}


def _make(name):
    get_spans = registry.resolve({"x": SPANS})["x"]
    return registry.architectures.get("raredis.TransformerModel.v1")(name=name, get_spans=get_spans)


def test_registered():
    assert registry.architectures.get("raredis.TransformerModel.v1") is create_transformer_model_v1


def test_offline_alias_resolves_to_local_folder():
    folder = Path(resolve_encoder_name(MINILM_ALIAS))
    assert folder.is_dir()
    assert (folder / "config.json").exists() and (folder / "tokenizer.json").exists()


@pytest.mark.parametrize("name", ["dmis-lab/biobert-v1.1", "emilyalsentzer/Bio_ClinicalBERT", "/some/local/folder"])
def test_hf_ids_and_paths_pass_through(name):
    assert resolve_encoder_name(name) == name


def test_unknown_offline_alias_is_a_clear_error():
    with pytest.raises(ValueError, match="offline:nope"):
        resolve_encoder_name("offline:nope")


def test_construction_is_lazy():
    """Building the model (as spacy.load does) resolves and loads nothing."""
    model = _make("dmis-lab/biobert-v1.1")  # would need the network if it were loaded
    assert model.attrs["name"] == "dmis-lab/biobert-v1.1"
    assert model.attrs["has_transformer"] is False


@pytest.mark.slow
def test_minilm_initializes_with_fast_tokenizer_alignment():
    """The MiniLM folder has tokenizer.json only (no vocab.txt): it must give a fast
    tokenizer with offsets, and every spaCy token must align to wordpieces."""
    nlp = spacy.blank("en")
    docs = [nlp("Sjögren syndrome causes dry eyes (xerophthalmia) and β-thalassemia-like anemia."),
            nlp("ACTH deficiency.")]
    model = _make(MINILM_ALIAS)
    model.initialize(X=docs)
    assert model.attrs["name"] == MINILM_ALIAS  # the cache folder never leaks into the model
    assert model.tokenizer.is_fast
    assert model.get_dim("nO") == 384
    out = model.predict(docs)
    for doc, lengths in zip(docs, [out.doc_data[0].align.lengths, out.doc_data[1].align.lengths]):
        assert len(lengths) == len(doc)
        assert all(n >= 1 for n in lengths)  # no token lost in alignment
