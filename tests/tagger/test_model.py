"""The tagger network on a decoder with Gemma 3's layout (the tiny one; two layers kept): the causal encoding is
the language model's own, bidirectional attention changes it, LoRA sits where asked."""

import pytest
import torch

from raredis_llm.tagger.model import DecoderTagger, add_lora, attention_bias, lora_config


def test_attention_bias_masks_padding_future_and_distance():
    mask = torch.tensor([[1, 1, 1, 0]])
    causal = attention_bias(mask, causal=True, dtype=torch.float32)[0, 0]
    allowed = causal == 0
    assert allowed.tolist() == [[True, False, False, False], [True, True, False, False],
                                [True, True, True, False], [True, True, True, False]]
    full = attention_bias(mask, causal=False, dtype=torch.float32, window=2)[0, 0] == 0
    assert full.tolist() == [[True, True, False, False], [True, True, True, False],
                             [False, True, True, False], [False, False, True, False]]


@pytest.fixture(scope="module")
def two_layer_tagger(tiny_decoder):
    """A 2-layer causal tagger over the tiny decoder with Gemma 3's layout, and the LM's own
    hidden states for one input."""
    from raredis_llm.models.loading import load_causal_lm

    lm, tok = load_causal_lm(str(tiny_decoder), device="cpu", dtype="float32", attn_implementation="sdpa")
    ids = torch.tensor([tok("Fabry disease causes pain in the hands.")["input_ids"]])
    with torch.no_grad():
        reference = lm.model(input_ids=ids, output_hidden_states=True).hidden_states[2]
    tagger = DecoderTagger(lm.model, n_tags=11, num_layers=2, attention="causal")
    tagger.eval()
    return tagger, ids, reference


def test_causal_encoding_is_the_language_models(two_layer_tagger):
    tagger, ids, reference = two_layer_tagger
    with torch.no_grad():
        hidden = tagger.encode(ids, torch.ones_like(ids))
    assert len(tagger.base.layers) == 2
    torch.testing.assert_close(hidden, reference, rtol=1e-4, atol=1e-4)


def test_bidirectional_attention_lets_tokens_see_later_tokens(two_layer_tagger):
    tagger, ids, _ = two_layer_tagger
    changed = ids.clone()
    changed[0, -2] = 9454  # another word near the end
    att = torch.ones_like(ids)
    out = {}
    try:
        for mode in ("causal", "bidirectional"):
            tagger.attention = mode
            with torch.no_grad():
                out[mode] = (tagger.encode(ids, att), tagger.encode(changed, att))
    finally:
        tagger.attention = "causal"
    causal, bidir = out["causal"], out["bidirectional"]
    # causal: the first words do not depend on a later change; bidirectional: they do
    torch.testing.assert_close(causal[0][0, :3], causal[1][0, :3])
    assert (bidir[0][0, :3] - bidir[1][0, :3]).abs().max() > 1e-3
    assert (causal[0] - bidir[0]).abs().max() > 1e-3
    # padding on the right changes nothing for the real tokens in either mode
    padded = torch.cat([ids, torch.zeros((1, 3), dtype=ids.dtype)], dim=1)
    pad_att = torch.cat([att, torch.zeros((1, 3), dtype=att.dtype)], dim=1)
    tagger.attention = "bidirectional"
    try:
        with torch.no_grad():
            torch.testing.assert_close(tagger.encode(padded, pad_att)[:, :ids.shape[1]], bidir[0], rtol=1e-4, atol=1e-4)
    finally:
        tagger.attention = "causal"


def test_lora_only_on_upper_layers_and_no_gradient_below(two_layer_tagger):
    tagger, ids, _ = two_layer_tagger
    tagger.lora_from = 1
    names = add_lora(tagger, lora_config(4, 8, 0.0, ["q_proj", "v_proj"], [1]))
    try:
        assert names and all(n.startswith("layers.1.") for n in names)
        tagger.train()
        scores = tagger(ids, torch.ones_like(ids), torch.arange(ids.shape[1])[None])
        scores.sum().backward()
        grads = {n: p.grad for n, p in tagger.named_parameters() if p.requires_grad}
        assert all(g is not None for g in grads.values())
        assert not any(".layers.0." in n for n in grads)
        assert all(p.dtype == torch.float32 for n, p in tagger.named_parameters() if "lora_" in n)
    finally:
        tagger.eval()
