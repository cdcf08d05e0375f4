"""Both baseline configs train a few steps on real (tiny) RareDis data with `spacy train`
and the saved pipelines load and predict; the transformer pipeline reloads offline."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train

import raredis_llm.baselines  # noqa: F401  (registers raredis.TransformerModel.v1)
from raredis_llm.labels import LABELS
from raredis_llm.models.offline import MINILM_ALIAS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
TEXT = "Sjögren syndrome is a rare disease; patients report fatigue, dry eyes and β-thalassemia-like anemia."

RELOAD = r"""
import json, sys
import spacy
import raredis_llm.baselines
nlp = spacy.load(sys.argv[1])
doc = nlp(sys.argv[2])
trf = nlp.get_pipe("transformer").model
print(json.dumps({
    "ents": [[e.start_char, e.end_char, e.label_] for e in doc.ents],
    "name": trf.attrs["name"],
    "fast": bool(trf.tokenizer.is_fast),
    "align": [int(n) for n in doc._.trf_data.align.lengths],
    "n_tokens": len(doc),
}))
"""


def _check_saved(output: Path, labels_seen):
    for sub in ("model-last", "model-best"):
        assert (output / sub / "meta.json").exists()
    nlp = spacy.load(output / "model-last")
    assert set(nlp.get_pipe("ner").labels) <= set(LABELS)
    assert set(nlp.get_pipe("ner").labels) == labels_seen
    doc = nlp(TEXT)
    assert isinstance(doc.ents, tuple)
    assert all(e.label_ in LABELS for e in doc.ents)
    meta = json.loads((output / "model-best" / "meta.json").read_text())
    assert "ents_f" in meta["performance"]
    return nlp, doc


def _labels_in(path: Path):
    from spacy.tokens import DocBin

    return {e.label_ for d in DocBin().from_disk(path).get_docs(spacy.blank("en").vocab) for e in d.ents}


@pytest.mark.slow
def test_cnn_trains_and_predicts(tiny_corpus, train_overrides, tmp_path):
    output = tmp_path / "cnn"
    train(CONFIGS / "cnn.cfg", output, overrides={**train_overrides, "training.max_steps": 8,
                                                   "training.eval_frequency": 4})
    _check_saved(output, _labels_in(tiny_corpus / "train.spacy"))


@pytest.mark.slow
def test_trf_trains_and_reloads_offline(tiny_corpus, train_overrides, tmp_path):
    output = tmp_path / "trf"
    train(CONFIGS / "trf.cfg", output, overrides={**train_overrides, "training.max_steps": 3,
                                                   "training.eval_frequency": 3, "corpora.train.limit": 24,
                                                   "corpora.dev.limit": 8})
    nlp, doc = _check_saved(output, _labels_in(tiny_corpus / "train.spacy"))
    saved_cfg = (output / "model-last" / "config.cfg").read_text()
    assert f'name = "{MINILM_ALIAS}"' in saved_cfg
    assert "raredis_llm/hf" not in saved_cfg  # no cache path baked into the pipeline

    # A fresh process, offline, with an empty model cache: the pipeline carries its encoder.
    empty_cache = tmp_path / "empty_cache"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "RAREDIS_LLM_CACHE": str(empty_cache), "HF_HOME": str(tmp_path / "hf_home"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "components"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", RELOAD, str(output / "model-last"), TEXT],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["name"] == MINILM_ALIAS
    assert got["fast"] is True
    assert len(got["align"]) == got["n_tokens"] and min(got["align"]) >= 1
    assert got["ents"] == [[e.start_char, e.end_char, e.label_] for e in doc.ents]
    assert not empty_cache.exists() or not any(empty_cache.iterdir())
