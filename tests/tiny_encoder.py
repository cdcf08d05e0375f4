"""A tiny randomly initialised BERT encoder (2 layers, width 32) with the real MiniLM
tokenizer, saved as a Hugging Face folder that ``configs/trf.cfg`` takes in place of
``offline:all-MiniLM-L6-v2``: for the transformer pipelines of tests that check what a
pipeline does with its transformer (windows, alignment, saving, sourcing, processes), not
what MiniLM's weights know. It builds in a second and runs a hundred times faster.
"""

import shutil
from pathlib import Path


def build_tiny_encoder(folder: Path, seed: int = 0) -> Path:
    """Save a tiny BERT with MiniLM's tokenizer in ``folder`` (float32, seeded)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from raredis_llm.models.offline import MINILM_ALIAS, resolve_model

    real = Path(resolve_model(MINILM_ALIAS, log=lambda *_: None))
    tokenizer = AutoTokenizer.from_pretrained(real)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(folder)
    for path in real.iterdir():  # the tokenizer's files as they are
        if path.name.startswith(("tokenizer", "special_tokens", "vocab")):
            shutil.copy(path, folder / path.name)
    return folder
