"""``"sdpa_gqa"``: scaled dot-product attention for grouped-query models without copying
the key/value cache.

``transformers``' ``"sdpa"`` repeats each key/value head for every query head of its group
(``repeat_kv``) and makes the result contiguous, on every layer of every decoding step: a
copy of the whole cache, times the group size. Gemma 3 270M has 4 query heads per
key/value head, so most of a long-prompt decoding step went into those copies. Here the
query heads of a group are folded into the query-length axis instead, so every query row
attends to its group's one key/value head as it is; the mask is repeated along the folded
axis (a small tensor). Same products, same softmax, no cache copy.
"""

from typing import Optional

NAME = "sdpa_gqa"


def sdpa_gqa_attention(module, query, key, value, attention_mask: Optional["torch.Tensor"], dropout: float = 0.0,
                       scaling: Optional[float] = None, is_causal: Optional[bool] = None, **kwargs):
    """``transformers`` attention interface: query (b, h, q, d), key/value (b, kv, k, d)."""
    import torch

    b, h, q, d = query.shape
    kv = key.shape[1]
    groups = h // kv
    if attention_mask is not None and attention_mask.ndim == 4:
        attention_mask = attention_mask[:, :, :, : key.shape[-2]]
    if groups == 1 or (q > 1 and attention_mask is None):
        # nothing to fold (or a causal prefill without a mask: the folded rows would need one)
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, is_causal=is_causal, **kwargs)
    folded = query.reshape(b, kv, groups * q, d)
    mask = attention_mask
    if mask is not None:
        # (b, 1 or h, q, k) -> (b, kv, groups * q, k), rows in the folded order
        mask = mask.expand(b, h, q, mask.shape[-1]).reshape(b, kv, groups * q, mask.shape[-1])
    out = torch.nn.functional.scaled_dot_product_attention(
        folded, key, value, attn_mask=mask, dropout_p=dropout, scale=scaling, is_causal=False)
    out = out.reshape(b, h, q, d).transpose(1, 2).contiguous()
    return out, None


def register() -> str:
    """Register ``"sdpa_gqa"`` with ``transformers`` (idempotent); returns its name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, sdpa_gqa_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)  # the masks "sdpa" gets (padding, sliding window)
    return NAME
