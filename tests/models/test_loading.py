"""models/loading.py with the real Gemma 3 270M (offline folder): loading, LoRA merging."""

import pytest

from raredis_llm.models.loading import context_length_of, load_causal_lm, model_fingerprint


@pytest.fixture(scope="module")
def gemma():
    return load_causal_lm("offline:gemma-3-270m", device="cpu", dtype="float32")


def test_never_downloads_unknown_ids():
    with pytest.raises(OSError, match="local Hugging Face cache"):
        load_causal_lm("raredis-test/no-such-model", device="cpu")


def test_context_length_from_config():
    assert context_length_of("offline:gemma-3-270m") == 32768
    assert context_length_of("raredis-test/no-such-model") is None


def test_missing_files_fail_fast(tmp_path):
    with pytest.raises(FileNotFoundError, match="GGUF"):
        load_causal_lm(str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        load_causal_lm("offline:gemma-3-270m", adapter=str(tmp_path))


def test_fingerprint_tracks_local_files(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"a")
    first = model_fingerprint("offline:gemma-3-270m", tmp_path)
    assert first == model_fingerprint("offline:gemma-3-270m", tmp_path)
    (tmp_path / "adapter_model.safetensors").write_bytes(b"b")
    assert model_fingerprint("offline:gemma-3-270m", tmp_path) != first
    assert model_fingerprint("org/model") == "org/model"


@pytest.mark.slow
def test_loaded_ready_for_batches(gemma):
    import torch

    model, tok = gemma
    assert tok.padding_side == "left" and tok.pad_token_id is not None
    assert not model.training and next(model.parameters()).dtype == torch.float32
    assert str(next(model.parameters()).device) == "cpu"


@pytest.mark.slow
def test_lora_adapter_loading(tmp_path):
    """An adapter saved by peft is merged into the weights by load_causal_lm (without
    peft) and gives peft's own outputs."""
    import torch
    from peft import LoraConfig, get_peft_model

    base, tok = load_causal_lm("offline:gemma-3-270m", device="cpu", dtype="float32")
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, config).eval()
    peft_model.save_pretrained(tmp_path / "adapter")
    ids = tok(["Marfan syndrome"], return_tensors="pt")
    with torch.inference_mode():
        expected = peft_model(**ids).logits[0, -1]
    del peft_model, base

    merged, _ = load_causal_lm("offline:gemma-3-270m", adapter=tmp_path / "adapter", device="cpu", dtype="float32")
    assert not hasattr(merged, "peft_config")
    with torch.inference_mode():
        got = merged(**ids).logits[0, -1]
        plain = load_causal_lm("offline:gemma-3-270m", device="cpu", dtype="float32")[0](**ids).logits[0, -1]
    assert torch.allclose(got, expected, atol=1e-3)
    assert not torch.allclose(plain, expected, atol=1e-3)  # the adapter really changes the model
