"""Knowledge features for the LLM tagger: the head reads the dictionary's matches of each
word; the dictionary is loaded from a saved pipeline, set to write spans only, trained
with the tagger's data and saved in front of it (a tiny knowledge base, Gemma 3 270M with
two layers, a handful of sentences)."""

import json
from pathlib import Path

import numpy as np
import pytest
import spacy
import torch
from spacy.training import Example

from raredis_llm.knowledge.build import build_knowledge_base
from raredis_llm.knowledge.features import load_feature_pipeline, span_labels_of
from raredis_llm.labels import LABELS
from raredis_llm.tagger.data import Item, collate, word_features
from raredis_llm.tagger.model import TaggerHead
from raredis_llm.tagger.settings import load_setup
from raredis_llm.tagger.trainer import TaggerTrainer
from tests.knowledge.kb_data import TINY_HPOA, TINY_OBO
from tests.tagger.test_training import CONFIG, _ents, _setup


@pytest.fixture(scope="module")
def dictionary_pipeline(tmp_path_factory, tagger_docs):
    """A saved pipeline like `spacy project run dictionary` writes (the dictionary tags
    doc.ents), plus a sentencizer that the feature pipeline must leave out."""
    root = tmp_path_factory.mktemp("tagger_kb")
    kb = root / "raredis_kb"
    build_knowledge_base(kb, obo=TINY_OBO, hpoa=TINY_HPOA, log=lambda *_: None)
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_dictionary", config={"min_precision": 0.0})
    nlp.add_pipe("sentencizer")
    examples = [Example(nlp.make_doc(d.text), d) for d in tagger_docs()]
    nlp.get_pipe("raredis_dictionary").initialize(lambda: examples, nlp=nlp, kb=kb)
    nlp.to_disk(root / "dictionary")
    return root / "dictionary"


def test_the_head_reads_the_features_beside_the_hidden_state():
    torch.manual_seed(0)
    head = TaggerHead(hidden_size=8, n_tags=3, dropout=0.0, n_features=4).eval()
    hidden = torch.randn(1, 2, 8)
    off, on = torch.zeros(1, 2, 4), torch.tensor([[[1.0, 0, 0, 0], [0, 1, 0, 0]]])
    assert head.out.in_features == 12
    assert not torch.allclose(head(hidden, off), head(hidden, on))
    with pytest.raises(ValueError, match="reads 4 knowledge features per word, got None"):
        head(hidden)
    plain = TaggerHead(hidden_size=8, n_tags=3, n_features=0)
    assert plain.out.in_features == 8 and plain(hidden).shape == (1, 2, 3)


def test_feature_pipeline_writes_spans_only(dictionary_pipeline):
    nlp = load_feature_pipeline(dictionary_pipeline, "raredis_kb", LABELS)
    assert nlp.pipe_names == ["raredis_dictionary"]
    doc = nlp("Fabry disease may cause fever and kidney failure.")
    assert not doc.ents
    found = {(s.text, s.label_) for s in doc.spans["raredis_kb"]}
    assert ("Fabry disease", "RAREDISEASE") in found
    assert {label for _, label in found} <= set(LABELS)
    matrix = word_features(doc, "raredis_kb", LABELS)
    assert matrix.shape == (len(doc), 10) and matrix[0, 0] == 1 and matrix[1, 1] == 1
    groups = load_feature_pipeline(dictionary_pipeline, "kb_groups", ["orphanet_disease", "hpo_phenotype"])
    grouped = groups("Fabry disease may cause fever.")
    assert {s.label_ for s in grouped.spans["kb_groups"]} == {"orphanet_disease", "hpo_phenotype"}
    with pytest.raises(ValueError, match="all be concept groups .* or all RareDis types"):
        span_labels_of(["RAREDISEASE", "hpo_phenotype"])
    with pytest.raises(FileNotFoundError, match="not a saved spaCy pipeline"):
        load_feature_pipeline(dictionary_pipeline.parent, "raredis_kb", LABELS)
    with pytest.raises(ValueError, match=r"No doc.spans\['raredis_kb'\] in 'Fabry disease"):
        word_features(spacy.blank("en")("Fabry disease."), "raredis_kb", LABELS)


def test_collate_pads_the_features():
    from raredis_llm.tagger.alignment import Encoded

    a = Item(Encoded([2, 5, 6], [1, 2]), features=np.array([[1, 0], [0, 1]], dtype="float32"))
    b = Item(Encoded([2, 7], [1]), features=np.array([[1, 0]], dtype="float32"))
    out = collate([a, b], pad_id=0)
    assert out["word_features"].tolist() == [[[1, 0], [0, 1]], [[1, 0], [0, 0]]]
    assert "word_features" not in collate([Item(Encoded([2, 5], [1]))], pad_id=0)


def test_config_checks():
    with pytest.raises(ValueError, match="needs \\[paths\\] knowledge"):
        load_setup(CONFIG, {"model.knowledge": True})
    with pytest.raises(ValueError, match="subtoken_labels"):
        load_setup(CONFIG, {"model.knowledge": True, "paths.knowledge": "training/dictionary",
                            "training.subtoken_labels": "all"})
    assert load_setup(CONFIG).knowledge_path is None  # off by default


@pytest.mark.slow
def test_training_with_knowledge_features_round_trips(tiny_corpus, tiny_decoder, tagger_docs, dictionary_pipeline,
                                                      tmp_path):
    out = tmp_path / "tagger"
    setup = _setup(tiny_corpus, tiny_decoder, out, {"model.knowledge": True, "paths.knowledge": str(dictionary_pipeline)},
                   max_steps=8, eval_every=8, checkpoint_every=8)
    meta = TaggerTrainer(setup, progress=False, log=lambda *_: None).train(resume=False)
    assert meta["steps"] == 8 and meta["data"]["knowledge"] == str(dictionary_pipeline)

    nlp = spacy.load(out / "model-last")  # the dictionary travels with the tagger: no knowledge base needed
    assert nlp.pipe_names == ["raredis_dictionary", "raredis_llm_tagger"]
    assert nlp.meta["raredis_knowledge"]["spans_key"] == "raredis_kb"
    cfg = json.loads((out / "model-last" / "raredis_llm_tagger" / "cfg.json").read_text())
    assert cfg["model"]["knowledge"] is True and cfg["model"]["knowledge_labels"] == list(LABELS)
    texts = [d.text for d in tagger_docs()]
    docs = list(nlp.pipe(texts))
    assert any(d.spans["raredis_kb"] for d in docs) and all(
        not any(s.label_ == "" for s in d.spans["raredis_kb"]) for d in docs)
    nlp.to_disk(tmp_path / "again")
    assert _ents(spacy.load(tmp_path / "again").pipe(texts)) == _ents(docs)

    # the trained head uses the features: the same words score differently without them
    tagger = nlp.get_pipe("raredis_llm_tagger")
    doc = nlp(texts[0])
    words = [(t.idx, t.idx + len(t.text)) for t in doc]
    enc = tagger._encoder.encode(doc.text, words, None)
    feats = word_features(doc, "raredis_kb", LABELS)
    assert feats.sum() > 0
    batch = collate([Item(enc, features=feats), Item(enc, features=np.zeros_like(feats))], 0)
    with torch.no_grad():
        scores = tagger._model(batch["input_ids"], batch["attention_mask"], batch["word_index"],
                               batch["word_features"])
    assert not torch.allclose(scores[0], scores[1])
    # without the dictionary in front, the tagger says what is missing
    with pytest.raises(ValueError, match="run raredis_dictionary"):
        tagger(nlp.make_doc(texts[0]))



def test_layer_probe_with_and_without_knowledge(tiny_corpus, dictionary_pipeline, tmp_path):
    from tests.scoring.script_runner import run_script

    out = tmp_path / "probe.json"
    result = run_script("probe_tagger_layers.py", [
        CONFIG, "--paths.train", tiny_corpus / "train.spacy", "--paths.validation", tiny_corpus / "validation.spacy",
        "--model.knowledge", "true", "--paths.knowledge", dictionary_pipeline,
        "--n-train", 6, "--n-val", 3, "--layers", "1,2", "--output", out])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["knowledge"] == str(dictionary_pipeline)
    for rows in (data["layers"], data["layers_with_knowledge"]):
        assert sorted(rows) == ["1", "2"] and all(0.0 <= r["f"] <= 1.0 for r in rows.values())
    assert "with knowledge features" in result.output
