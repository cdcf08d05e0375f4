"""Real LoRA training steps on a tiny decoder with Gemma 3's layout (CPU): loss goes down,
resume continues."""

import json
from pathlib import Path

import pytest

from raredis_llm.finetune import load_setup
from raredis_llm.ner.finetuned import FinetunePrompt
from raredis_llm.finetune.instructions import docs_to_records, write_jsonl
from raredis_llm.finetune.trainer import train

ROOT = Path(__file__).resolve().parents[2]
CPU_CFG = ROOT / "configs" / "finetune_cpu.cfg"


def _setup(data_dir: Path, output: Path, max_steps: int, **extra):
    overrides = {
        "model.name": str(data_dir / "base"),
        "paths.train": str(data_dir / "train.jsonl"),
        "paths.validation": str(data_dir / "validation.jsonl"),
        "paths.output": str(output),
        "model.dtype": "float32",
        "training.batch_size": 4,
        "training.learning_rate": 0.002,
        "training.warmup_steps": 0,
        "training.scheduler": "constant",
        "training.max_steps": max_steps,
        "training.max_epochs": 100.0,
        "training.max_minutes": 0,
        "training.checkpoint_every": 1,
        "lora.dropout": 0.0,
        "evaluation.every": 2,
        "evaluation.metric": "loss",
        "evaluation.loss_examples": 4,
        "evaluation.f1_examples": 2,
        "evaluation.max_new_tokens_factor": 0.5,
        "evaluation.patience": 0,
    }
    overrides.update(extra)
    return load_setup(CPU_CFG, overrides)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, sentence_docs_factory, tiny_decoder):
    path = tmp_path_factory.mktemp("instructions")
    (path / "base").symlink_to(tiny_decoder)  # the base model the runs name: the tiny decoder
    records = docs_to_records(sentence_docs_factory(), FinetunePrompt("lines"))  # the CPU profile's format
    write_jsonl(records, path / "train.jsonl")
    write_jsonl(records, path / "validation.jsonl")
    return path


@pytest.fixture(scope="module")
def straight_run(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    meta = train(_setup(data_dir, out, 4), resume=False, progress=False, log=lambda m: None)
    return out, meta


def test_training_steps_decrease_loss(straight_run, data_dir):
    out, meta = straight_run
    assert meta["steps"] == 4 and meta["stop_reason"] == "max_steps"
    losses = [loss for _, loss in meta["train_loss"]]
    assert losses[-1] < losses[0]
    val = [h["val_loss"] for h in meta["history"]]
    assert len(val) == 2 and val[1] < val[0]
    assert "val_f" in meta["history"][0]  # generated + parsed + scored
    assert (out / "adapter" / "adapter_config.json").exists()
    info = json.loads((out / "adapter" / "raredis_finetune.json").read_text())
    assert info["prompt"]["output_format"] == "lines" and info["base_model"] == str(data_dir / "base")
    saved = json.loads((out / "metadata.json").read_text())
    assert saved["best_step"] in (2, 4) and saved["base_model"]["files"]
    assert len(saved["data"]["train"]["sha256"]) == 64
    assert saved["hyperparameters"]["lora"]["target_modules"] == ["q_proj", "v_proj"]


def test_resume_continues_from_the_saved_step(data_dir, straight_run, tmp_path):
    _, straight = straight_run
    first = train(_setup(data_dir, tmp_path, 2), resume=False, progress=False, log=lambda m: None)
    assert first["steps"] == 2
    state = json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 2
    logs = []
    second = train(_setup(data_dir, tmp_path, 4), resume=True, progress=False, log=logs.append)
    assert any("Resuming" in m and "step 2" in m for m in logs)
    assert second["steps"] == 4 and second["sessions"] == 2
    assert [s for s, _ in second["train_loss"]] == [1, 2, 3, 4]
    # same data order, optimizer state and RNG: the resumed run matches the straight one
    for (_, a), (_, b) in zip(second["train_loss"], straight["train_loss"]):
        assert a == pytest.approx(b, rel=1e-3)
