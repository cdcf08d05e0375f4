"""models/hf.py with the real Gemma 3 270M (offline folder): loading and batched generation."""

import pytest

from raredis_llm.models.hf import (
    context_length_of,
    default_max_new_tokens,
    generate,
    load_causal_lm,
    model_fingerprint,
    resolve_dtype,
)

# Very different lengths, so a batch of all three is mostly padding for the short ones.
PROMPTS = [
    "Cystic fibrosis is a rare genetic disease that",
    "Hi",
    "The capital of France is",
]
N_NEW = 5


def BUDGET(n_prompt_tokens: int) -> int:
    """Per-prompt budget: 2 new tokens for the very short prompt, N_NEW for the others."""
    return 2 if n_prompt_tokens < 4 else N_NEW


@pytest.fixture(scope="module")
def gemma():
    return load_causal_lm("offline:gemma-3-270m", device="cpu")


@pytest.fixture(scope="module")
def one_by_one(gemma):
    """Greedy outputs generated one prompt at a time (no padding at all)."""
    model, tok = gemma
    return [generate(model, tok, [p], max_new_tokens=BUDGET, batch_size=1)[0] for p in PROMPTS]


def test_default_budget():
    assert default_max_new_tokens(10) == 40
    assert default_max_new_tokens(1000) == 512
    assert default_max_new_tokens(1000, cap=64) == 64


def test_resolve_dtype():
    import torch

    from raredis_llm.models.precision import resolve_dtype_name

    assert str(resolve_dtype("auto", "cpu")) == "torch." + resolve_dtype_name("auto", "cpu")[0]
    assert resolve_dtype("bf16", "cpu") == torch.bfloat16
    with pytest.raises(ValueError, match="Unknown dtype"):
        resolve_dtype("float8", "cpu")


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
def test_batched_equals_one_by_one_in_input_order(gemma, one_by_one):
    """Left padding is right: a batch of very different lengths gives exactly the greedy
    answers of one-at-a-time generation, in input order, each within its own budget."""
    model, tok = gemma
    batched = generate(model, tok, PROMPTS, max_new_tokens=BUDGET, batch_size=len(PROMPTS))
    assert [str(x) for x in batched] == [str(x) for x in one_by_one]
    assert len(set(map(str, batched))) == len(PROMPTS)  # really different answers, in order
    for prompt, out in zip(PROMPTS, batched):
        n_prompt = len(tok(prompt)["input_ids"])
        assert out.usage["prompt_tokens"] == n_prompt
        assert 1 <= out.usage["completion_tokens"] <= BUDGET(n_prompt)
        assert not out.cached
    assert batched[1].usage["completion_tokens"] <= 2 < batched[0].usage["completion_tokens"]


@pytest.mark.slow
def test_stop_strings(gemma, one_by_one):
    model, tok = gemma
    full = str(one_by_one[0])
    words = full.split()
    assert len(words) >= 2, full
    stop = " " + words[1]
    out = generate(model, tok, [PROMPTS[0]], max_new_tokens=N_NEW, stop=[stop])[0]
    assert str(out) == full[: full.find(stop)]
    assert out.meta["finish_reason"] == "stop"
    assert out.usage["completion_tokens"] < N_NEW


@pytest.mark.slow
def test_lora_adapter_loading(tmp_path):
    """An adapter saved by peft loads through load_causal_lm, unmerged and merged."""
    import torch
    from peft import LoraConfig, get_peft_model

    base, tok = load_causal_lm("offline:gemma-3-270m", device="cpu")
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, config).eval()
    peft_model.save_pretrained(tmp_path / "adapter")
    ids = tok(["Marfan syndrome"], return_tensors="pt")
    with torch.inference_mode():
        expected = peft_model(**ids).logits[0, -1]
    del peft_model, base

    loaded, _ = load_causal_lm("offline:gemma-3-270m", adapter=tmp_path / "adapter", device="cpu")
    with torch.inference_mode():
        got = loaded(**ids).logits[0, -1]
    assert torch.allclose(got, expected, atol=1e-4)
    del loaded
    merged, _ = load_causal_lm("offline:gemma-3-270m", adapter=tmp_path / "adapter", merge_adapter=True, device="cpu")
    assert not hasattr(merged, "peft_config")
    with torch.inference_mode():
        got = merged(**ids).logits[0, -1]
    assert torch.allclose(got, expected, atol=1e-3)
