"""The baseline configs build valid pipelines and the two transformer profiles stay in sync."""

from pathlib import Path

import pytest
from spacy.util import load_config, load_model_from_config
from thinc.api import Config

import raredis_llm.baselines  # noqa: F401  (registers raredis.TransformerModel.v1)
from raredis_llm.models.offline import MINILM_ALIAS

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

#: Settings in which the GPU/paper profile may differ from the CPU profile.
PROFILE_KEYS = {
    "nlp.batch_size",
    "training.accumulate_gradient",
    "training.patience",
    "training.max_steps",
    "training.eval_frequency",
    "training.optimizer.learn_rate.warmup_steps",
    "training.optimizer.learn_rate.initial_rate",
}


def _flatten(cfg, prefix=""):
    out = {}
    for key, value in cfg.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@pytest.mark.parametrize("name,pipeline", [("cnn", ["tok2vec", "ner"]), ("trf", ["transformer", "ner"]),
                                           ("trf_gpu", ["transformer", "ner"])])
def test_config_builds_pipeline(name, pipeline):
    config = load_config(CONFIGS / f"{name}.cfg")
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == pipeline
    # auto_fill adds nothing: the config files are complete
    assert _flatten(nlp.config) == _flatten(config)


def test_cnn_has_no_transformer():
    flat = _flatten(load_config(CONFIGS / "cnn.cfg"))
    assert not any("transformer" in str(v).lower() for k, v in flat.items() if k.startswith("components."))


def test_trf_default_encoder_is_offline_minilm():
    for name in ("trf", "trf_gpu"):
        model = load_config(CONFIGS / f"{name}.cfg")["components"]["transformer"]["model"]
        assert model["@architectures"] == "raredis.TransformerModel.v1"
        assert model["name"] == MINILM_ALIAS


def test_encoder_is_one_override_away():
    config = load_config(CONFIGS / "trf.cfg", overrides={"components.transformer.model.name": "dmis-lab/biobert-v1.1"})
    nlp = load_model_from_config(config, auto_fill=True)
    assert nlp.get_pipe("transformer").model.attrs["name"] == "dmis-lab/biobert-v1.1"


def test_cpu_and_gpu_profiles_differ_only_in_training_sizes():
    cpu = _flatten(Config().from_disk(CONFIGS / "trf.cfg", interpolate=False))
    gpu = _flatten(Config().from_disk(CONFIGS / "trf_gpu.cfg", interpolate=False))
    assert cpu.keys() == gpu.keys()
    differing = {k for k in cpu if cpu[k] != gpu[k]}
    assert differing <= PROFILE_KEYS, differing - PROFILE_KEYS


def test_cpu_profiles_are_bounded():
    for name in ("cnn", "trf"):
        training = load_config(CONFIGS / f"{name}.cfg")["training"]
        assert 0 < training["max_steps"] <= 5000
    gpu = load_config(CONFIGS / "trf_gpu.cfg")["training"]
    assert gpu["patience"] > 0 and gpu["max_steps"] >= 10000
