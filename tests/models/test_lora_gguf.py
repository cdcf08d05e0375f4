"""PEFT adapter -> llama.cpp GGUF adapter: names, shapes and alpha as llama.cpp reads them."""

import json

import pytest

from raredis_llm.models.lora_gguf import adapter_gguf, convert_adapter, gguf_architecture


def test_architecture_from_config():
    assert gguf_architecture({"model_type": "gemma3_text"}) == "gemma3"
    with pytest.raises(ValueError, match="No llama.cpp architecture"):
        gguf_architecture({"model_type": "bert"})


@pytest.mark.slow
def test_convert_writes_lora_pairs(tmp_path):
    import gguf
    from peft import LoraConfig, get_peft_model

    from raredis_llm.models.loading import load_causal_lm
    from raredis_llm.models.offline import gemma_hf_folder

    base, _ = load_causal_lm("offline:gemma-3-270m", device="cpu", dtype="float32")
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], layers_to_transform=[0, 17])
    get_peft_model(base, config).save_pretrained(tmp_path / "adapter")
    out = convert_adapter(tmp_path / "adapter", gemma_hf_folder(), tmp_path / "a.gguf")
    reader = gguf.GGUFReader(str(out))
    names = {t.name: tuple(int(x) for x in t.shape) for t in reader.tensors}
    assert set(names) == {f"blk.{i}.attn_{p}.weight.lora_{ab}" for i in (0, 17) for p in "qv" for ab in "ab"}
    # ggml shapes: lora_a is [in, r], lora_b is [r, out]
    assert names["blk.0.attn_q.weight.lora_a"] == (640, 4) and names["blk.0.attn_q.weight.lora_b"] == (4, 1024)
    fields = {f.name: f for f in reader.fields.values()}
    assert "adapter.lora.alpha" in fields and "general.architecture" in fields
    # written once, reused while the adapter is unchanged
    again = adapter_gguf(tmp_path / "adapter", gemma_hf_folder())
    assert again == tmp_path / "adapter" / "adapter.gguf" and again.exists()
    cfg = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    cfg["use_dora"] = True
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="plain LoRA"):
        convert_adapter(tmp_path / "adapter", gemma_hf_folder(), tmp_path / "b.gguf")
