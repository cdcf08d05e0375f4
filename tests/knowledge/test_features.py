"""Knowledge features for the supervised taggers (cnn_kb.cfg / trf_kb.cfg)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import spacy
from spacy.tokens import DocBin, Span
from spacy.util import load_config, load_model_from_config

import raredis_llm.baselines  # noqa: F401
from raredis_llm.knowledge.dictionary import GROUP_LABELS
from raredis_llm.knowledge.features import (embed_with_knowledge, feature_matrix, knowledge_features,
                                            tok2vec_with_knowledge)

from tests.knowledge.kb_data import gold_doc

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"


def test_feature_matrix_marks_begin_and_inside_per_label():
    nlp = spacy.blank("en")
    doc = nlp("Fabry disease causes burning pain .")
    doc.spans["raredis_kb"] = [Span(doc, 0, 2, "orphanet_disease"), Span(doc, 4, 5, "hpo_phenotype"),
                               Span(doc, 3, 4, "unknown_label")]
    out = feature_matrix(doc, "raredis_kb", GROUP_LABELS)
    assert out.shape == (6, 10) and out.dtype == np.float32
    assert out[0].tolist() == [1, 0] + [0] * 8 and out[1].tolist() == [0, 1] + [0] * 8
    assert out[4, 8] == 1 and out[4].sum() == 1
    assert out[[2, 3, 5]].sum() == 0
    assert feature_matrix(nlp("no spans"), "raredis_kb", GROUP_LABELS).sum() == 0


def test_concatenated_to_the_tok2vec_output():
    from spacy.ml.models import build_hash_embed_cnn_tok2vec

    tok2vec = build_hash_embed_cnn_tok2vec(width=16, depth=1, embed_size=100, window_size=1, maxout_pieces=2,
                                           subword_features=True, pretrained_vectors=None)
    model = tok2vec_with_knowledge(tok2vec, knowledge_features())
    assert model.get_dim("nO") == 16 + 10
    nlp = spacy.blank("en")
    doc = nlp("Fabry disease")
    doc.spans["raredis_kb"] = [Span(doc, 0, 2, "orphanet_disease")]
    model.initialize(X=[doc])
    out, backprop = model([doc], is_train=True)
    assert out[0].shape == (2, 26) and out[0][0, 16] == 1 and out[0][1, 17] == 1
    backprop([np.ones_like(out[0])])  # gradients reach the tok2vec; the features have none


def test_mixed_into_the_embeddings_before_the_encoder():
    from spacy.ml.models import MultiHashEmbed

    embed = MultiHashEmbed(width=16, attrs=["NORM", "SHAPE"], rows=[100, 50], include_static_vectors=False)
    model = embed_with_knowledge(embed, knowledge_features(), width=16)
    nlp = spacy.blank("en")
    doc, other = nlp("Fabry disease"), nlp("Fabry disease")
    doc.spans["raredis_kb"] = [Span(doc, 0, 2, "orphanet_disease")]
    model.initialize(X=[doc, other])
    out = model.predict([doc, other])
    assert out[0].shape == (2, 16)
    assert not np.allclose(out[0], out[1])  # same words, different knowledge


@pytest.mark.parametrize("name", ["cnn", "trf"])
def test_kb_config_is_the_base_config_plus_knowledge(name):
    base = load_config(CONFIGS / f"{name}.cfg")
    kb = load_config(CONFIGS / f"{name}_kb.cfg")
    assert kb["nlp"]["pipeline"] == ["raredis_dictionary", *base["nlp"]["pipeline"]]
    assert kb["training"]["annotating_components"] == ["raredis_dictionary"]
    assert kb["components"]["raredis_dictionary"]["write_ents"] is False
    wrapper = kb["components"]["ner"]["model"]["tok2vec"]
    assert wrapper["@architectures"] == "raredis.Tok2VecWithKnowledge.v1"
    labels = {"cnn": ["RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"], "trf": list(GROUP_LABELS)}[name]
    assert wrapper["features"]["labels"] == labels
    assert kb["components"]["raredis_dictionary"]["span_labels"] == {"cnn": "type", "trf": "group"}[name]
    assert kb["initialize"]["components"]["raredis_dictionary"]["kb"] == "${paths.kb}"
    # without the knowledge parts, the config is the base config
    kb["nlp"]["pipeline"] = base["nlp"]["pipeline"]
    kb["training"]["annotating_components"] = []
    kb["components"]["ner"]["model"]["tok2vec"] = wrapper["tok2vec"]
    del kb["components"]["raredis_dictionary"], kb["initialize"]["components"]["raredis_dictionary"]
    del kb["paths"]["kb"]
    assert kb == base
    nlp = load_model_from_config(load_config(CONFIGS / f"{name}_kb.cfg"), auto_fill=True, validate=True)
    assert nlp.pipe_names[0] == "raredis_dictionary"


@pytest.mark.slow
def test_cnn_kb_trains_saves_and_loads_offline(tiny_kb_path, tmp_path):
    docs = [gold_doc("Fabry disease causes pain and seizures.", [("Fabry disease", "RAREDISEASE"), ("pain", "SYMPTOM"), ("seizures", "SIGN")]),
            gold_doc("Alport syndrome leads to kidney failure.", [("Alport syndrome", "RAREDISEASE"), ("kidney failure", "DISEASE")]),
            gold_doc("Fever and blisters were seen.", [("Fever", "SIGN"), ("blisters", "SIGN")])]
    DocBin(docs=docs).to_disk(tmp_path / "train.spacy")
    out = subprocess.run(
        [sys.executable, "-m", "spacy", "train", str(CONFIGS / "cnn_kb.cfg"), "--output", str(tmp_path / "out"),
         "--paths.train", str(tmp_path / "train.spacy"), "--paths.dev", str(tmp_path / "train.spacy"),
         "--paths.kb", str(tiny_kb_path), "--training.max_steps", "4", "--training.eval_frequency", "2"],
        capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Set annotations on update for: ['raredis_dictionary']" in out.stdout
    trained = spacy.load(tmp_path / "out" / "model-last")
    assert trained.pipe_names == ["raredis_dictionary", "tok2vec", "ner"]
    doc = trained("Fabry disease causes seizures.")
    # span_labels = "type": each match carries the RareDis type its concept's group maps to
    # (learned on the three training Docs: Orphanet -> RAREDISEASE, nervous system -> SIGN)
    assert [(s.text, s.label_, s.kb_id_) for s in doc.spans["raredis_kb"]] == [
        ("Fabry disease", "RAREDISEASE", "ORPHA:324"), ("seizures", "SIGN", "HP:0001250")]
    names = [layer.name for layer in trained.get_pipe("ner").model.walk()]
    assert "knowledge_features" in names
