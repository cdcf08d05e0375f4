"""A tiny randomly initialised decoder with Gemma 3 270M's layout (18 layers, sliding and
global attention, grouped-query attention, tied embeddings) and the real Gemma tokenizer, saved as a
Hugging Face folder that every loader takes in place of ``offline:gemma-3-270m``.

For tests where the real 270M weights add nothing (shapes, losses, resume, checkpoints,
merging, batching, caches): it builds in about a second and runs a training step in
milliseconds. Tests that check what the real weights know keep ``offline:gemma-3-270m``.
"""

import shutil
from pathlib import Path

#: as many layers as Gemma 3 270M (configs name layers by index), laid out as Gemma 3 lays
#: them: five sliding-window layers, then a global one
LAYERS = 18
SLIDING_WINDOW = 512


def build_tiny_decoder(folder: Path, seed: int = 0, sliding_window: int = SLIDING_WINDOW) -> Path:
    """Save a tiny Gemma 3 with the real tokenizer in ``folder`` (float32, seeded)."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    from raredis_llm.models.offline import GEMMA_ALIAS, resolve_model

    real = Path(resolve_model(GEMMA_ALIAS, log=lambda *_: None))
    tokenizer = AutoTokenizer.from_pretrained(real)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=LAYERS,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16,
        sliding_window=sliding_window, layer_types=(["sliding_attention"] * 5 + ["full_attention"]) * (LAYERS // 6),
        max_position_embeddings=32768, rope_theta=1_000_000.0, rope_local_base_freq=10_000.0,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True, torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(config)
    model.save_pretrained(folder)
    for path in real.iterdir():  # the tokenizer's files as they are (saving it again rewrites them)
        if path.name.startswith(("tokenizer", "special_tokens")):
            shutil.copy(path, folder / path.name)
    return folder
