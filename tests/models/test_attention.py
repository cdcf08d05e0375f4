"""``sdpa_gqa`` attention: the same result as transformers' ``sdpa`` without copying the
key/value heads (random tensors, and the real offline Gemma 3 270M on a padded batch)."""

import pytest
import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from raredis_llm.models.attention import NAME, sdpa_gqa_attention


class _Module:
    is_causal = True

    def __init__(self, groups):
        self.num_key_value_groups = groups


@pytest.mark.parametrize("groups,q,mask_kind", [(4, 1, "bool"), (4, 6, "bool"), (2, 3, "float"), (4, 6, None),
                                                (1, 5, "bool"), (4, 1, None)])
def test_same_as_sdpa(groups, q, mask_kind):
    torch.manual_seed(0)
    b, kv, k, d = 3, 2, 9, 16
    query = torch.randn(b, q, kv * groups, d).transpose(1, 2)  # (b, h, q, d), not contiguous, as in the models
    key, value = torch.randn(b, kv, k, d), torch.randn(b, kv, k, d)
    mask = None
    if mask_kind is not None:
        keep = torch.rand(b, 1, q, k) > 0.4
        keep[..., -1] = True
        mask = keep if mask_kind == "bool" else torch.where(keep, 0.0, float("-inf"))
    expected, _ = sdpa_attention_forward(_Module(groups), query, key, value, mask, scaling=0.25)
    got, _ = sdpa_gqa_attention(_Module(groups), query, key, value, mask, scaling=0.25)
    assert got.shape == expected.shape == (b, q, kv * groups, d)
    assert torch.allclose(got, expected, atol=1e-6)


@pytest.mark.slow
def test_gemma_logits_and_greedy_tokens_unchanged():
    from raredis_llm.models.loading import load_causal_lm

    texts = ["Fabry disease causes pain in the hands and feet of young patients.", "Ataxia.",
             "The patient denies fever but has had seizures since childhood."]
    results = {}
    for attn in ("sdpa", NAME):
        model, tokenizer = load_causal_lm("offline:gemma-3-270m", attn_implementation=attn, dtype="float32")
        assert model.config._attn_implementation == attn
        batch = tokenizer(texts, return_tensors="pt", padding=True)
        with torch.inference_mode():
            logits = model(**batch).logits
            tokens = model.generate(**batch, max_new_tokens=10, do_sample=False)
        results[attn] = (logits, tokens, batch["attention_mask"].bool())
    (a, ta, real), (b, tb, _) = results["sdpa"], results[NAME]
    assert not real.all()  # the batch is padded: the masks matter
    assert torch.allclose(a[real], b[real], atol=1e-4)
    assert torch.equal(ta, tb)
