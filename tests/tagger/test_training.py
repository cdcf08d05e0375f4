"""A tiny real training run of the tagger (the tiny decoder with Gemma 3's layout, two
layers, a handful of sentences): the loss goes down, the run resumes, and the saved pipeline round-trips
through to_disk / from_disk / spacy.load with identical predictions."""

import json
from pathlib import Path

import pytest
import spacy

from raredis_llm.corpus import schema
from raredis_llm.tagger.settings import load_setup
from raredis_llm.tagger.trainer import TaggerTrainer
from tests.lean_load import modules_after_load, not_for_loading

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "tagger_cpu.cfg"


def _setup(corpus: Path, base: Path, output: Path, extra: dict = None, **training):
    overrides = {
        "model.base_model": str(base),
        "paths.train": str(corpus / "train.spacy"), "paths.validation": str(corpus / "validation.spacy"),
        "paths.output": str(output), "model.num_layers": 2, "model.lora_from": 0,
        "model.bidirectional_from": 0, "model.context": "first_sentence",
        "lora.r": 4, "lora.alpha": 8, "training.max_steps": 16, "training.batch_tokens": 160,
        "training.learning_rate": 0.005, "training.head_learning_rate": 0.03, "training.warmup_steps": 2,
        "training.eval_every": 8, "training.eval_n": 0, "training.checkpoint_every": 8,
    }
    overrides.update({f"training.{k}": v for k, v in training.items()})
    overrides.update(extra or {})
    return load_setup(CONFIG, overrides)


def _ents(docs):
    return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs]


@pytest.fixture(scope="module")
def trained(tiny_corpus, tiny_decoder, tmp_path_factory):
    """16 steps of the tagger on the hand-made sentences: (output folder, training metadata)."""
    out = tmp_path_factory.mktemp("trained") / "tagger"
    meta = TaggerTrainer(_setup(tiny_corpus, tiny_decoder, out), progress=False, log=lambda *_: None).train(resume=False)
    return out, meta


def test_training_lowers_the_loss_and_the_pipeline_round_trips(trained, tiny_decoder, tagger_docs, tmp_path):
    out, meta = trained
    losses = [loss for _, loss in meta["train_losses"]]
    assert meta["steps"] == 16 and len(losses) == 16
    assert sum(losses[-4:]) / 4 < 0.6 * sum(losses[:4]) / 4
    assert meta["best_step"] in (8, 16) and [h["step"] for h in meta["history"]] == [8, 16]
    for name in ("model-best", "model-last"):
        cfg = json.loads((out / name / "raredis_llm_tagger" / "cfg.json").read_text())
        assert cfg["model"]["base_model"] == str(tiny_decoder)  # a reference, never the weights
        assert not list((out / name).rglob("model.safetensors"))

    texts = [d.text for d in tagger_docs()] + ["Fabry disease is rare. Fever and pain are common."]
    nlp = spacy.load(out / "model-last")
    first = _ents(nlp.pipe(texts))
    assert any(first)  # it learned something from six sentences
    nlp.to_disk(tmp_path / "again")
    second = _ents(spacy.load(tmp_path / "again").pipe(texts))
    assert first == second
    # loading folds the adapters into the base weights (merge_lora, default); unmerged, the
    # same entities (and the merged pipeline still saves its adapters, above)
    def adapters(pipeline):
        return [n for n, _ in pipeline.get_pipe("raredis_llm_tagger")._model.named_parameters() if "lora_" in n]

    assert not adapters(nlp)  # merged: plain weights
    unmerged = spacy.load(out / "model-last", config={"components": {"raredis_llm_tagger": {"merge_lora": False}}})
    assert _ents(unmerged.pipe(texts)) == first
    assert adapters(unmerged)
    # the component reads the context the converter stores on sentence Docs, else the
    # Doc's own first sentence
    tagger = nlp.get_pipe("raredis_llm_tagger")
    doc = nlp.make_doc(texts[-1])
    assert [u[2] for u in tagger._units(doc)] == ["Fabry disease is rare."] * 2
    doc.user_data[schema.CONTEXT] = texts[0]
    assert [u[2] for u in tagger._units(doc)] == [texts[0]] * 2


@pytest.mark.slow
def test_the_merged_tagger_loads_without_peft_or_training_code(trained):
    """Merged at load, it needs no peft, and loading imports no training code (a fresh
    interpreter, tests/lean_load.py)."""
    out, _ = trained
    assert not_for_loading(modules_after_load(out / "model-last")) == []


def test_an_interrupted_run_resumes_to_the_same_model(tiny_corpus, tiny_decoder, tmp_path):
    full = TaggerTrainer(_setup(tiny_corpus, tiny_decoder, tmp_path / "full", max_steps=8, eval_every=0, checkpoint_every=4),
                         progress=False, log=lambda *_: None).train(resume=False)
    part = tmp_path / "part"
    setup = _setup(tiny_corpus, tiny_decoder, part, max_steps=8, eval_every=0, checkpoint_every=4)
    stopped = TaggerTrainer(setup, progress=False, log=lambda *_: None).train(resume=False, session_steps=3)
    assert stopped["steps"] == 3 and stopped["stop_reason"] == "session_steps"
    resumed = TaggerTrainer(setup, progress=False, log=lambda *_: None).train(resume=True)
    assert resumed["sessions"] == 2 and resumed["steps"] == 8
    assert [l for _, l in resumed["train_losses"]] == pytest.approx([l for _, l in full["train_losses"]], rel=1e-3)


def test_the_frozen_layers_run_once_and_train_as_recomputed(tiny_corpus, tiny_decoder, tmp_path):
    """lora_from = 1: layer 0 is frozen; its output cached per sentence gives the losses
    of recomputing it at every step (bf16 batches of other shapes round differently)."""
    runs = {}
    for cache in (True, False):
        setup = _setup(tiny_corpus, tiny_decoder, tmp_path / f"cache_{cache}", {"model.lora_from": 1}, max_steps=4,
                       eval_every=0, checkpoint_every=0, cache_frozen=cache)
        trainer = TaggerTrainer(setup, progress=False, log=lambda *_: None)
        runs[cache] = [l for _, l in trainer.train(resume=False)["train_losses"]]
        assert (trainer.prefix is not None) == cache
        if cache:  # one state per training sentence, of its own length, from the frozen layer
            assert [len(p) for p in trainer.prefix] == [len(it) for it in trainer.train_items]
            item = trainer.train_items[0]
            import torch

            ids = torch.tensor([item.encoded.input_ids])
            again = trainer.model.frozen_states(ids, torch.ones_like(ids))[0]
            assert torch.allclose(again.float(), trainer.prefix[0].float(), atol=0.05)
    assert runs[True] == pytest.approx(runs[False], rel=0.03)


def test_the_clock_is_a_loud_safety_stop(tiny_corpus, tiny_decoder, tmp_path):
    logged = []
    meta = TaggerTrainer(_setup(tiny_corpus, tiny_decoder, tmp_path / "t", max_steps=8, max_minutes=1e-9, eval_every=0),
                         progress=False, log=logged.append).train(resume=False)
    assert meta["steps"] == 0 and meta["stopped_by_time"] and meta["stop_reason"].startswith("max_minutes")
    assert any(line.startswith("WARNING: stopped by the wall-clock safety cap") for line in logged)
    assert (tmp_path / "t" / "model-best" / "meta.json").exists()
