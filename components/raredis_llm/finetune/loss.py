"""Causal-LM loss on response tokens only, without the full-vocabulary LM head.

The naive way (``model(input_ids, labels=labels).loss``) projects *every* position onto
the vocabulary (262k rows for Gemma 3) and then throws most of it away: prompt positions
carry label ``-100``. Here the decoder body gives hidden states, only the positions that
predict a response token are gathered (shifted by one, as the causal loss is), and the
LM head runs on those rows alone. The result is the same number as the naive loss
(``tests/finetune/test_loss.py`` checks it), at a fraction of the cost.

Optionally the prompt prefix shared by the whole batch (the instruction) is run once and
its key/value cache broadcast to every row (``shared_prefix_len``): exact as well, since
the prefix tokens only attend to themselves.
"""

from typing import Optional

import torch
import torch.nn.functional as F

from ..models.loading import decoder_and_head

IGNORE_INDEX = -100


def _head_logits(head, hidden: torch.Tensor, softcap: Optional[float]) -> torch.Tensor:
    logits = head(hidden)
    if softcap is not None:
        logits = torch.tanh(logits / softcap) * softcap
    return logits.float()


def full_logits_loss(model, input_ids, attention_mask, labels) -> torch.Tensor:
    """The naive reference: Hugging Face's own loss over full-vocabulary logits."""
    return model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss


def _body_hidden(decoder, input_ids, attention_mask, shared_prefix_len: int = 0):
    if shared_prefix_len <= 0:
        out = decoder(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return out.last_hidden_state
    from transformers import DynamicCache

    batch, seq_len = input_ids.shape
    prefix = input_ids[:1, :shared_prefix_len]
    cache = DynamicCache()
    pre = decoder(
        input_ids=prefix,
        attention_mask=torch.ones_like(prefix),
        past_key_values=cache,
        use_cache=True,
    )
    if batch > 1:
        for i in range(len(cache.key_cache)):
            cache.key_cache[i] = cache.key_cache[i].expand(batch, -1, -1, -1)
            cache.value_cache[i] = cache.value_cache[i].expand(batch, -1, -1, -1)
    rest = decoder(
        input_ids=input_ids[:, shared_prefix_len:],
        attention_mask=attention_mask,
        past_key_values=cache,
        use_cache=True,
    )
    return torch.cat([pre.last_hidden_state.expand(batch, -1, -1), rest.last_hidden_state], dim=1)


def response_only_loss(
    model,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    labels: torch.Tensor,
    shared_prefix_len: int = 0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Mean cross-entropy over response tokens, LM head applied to those positions only.

    ``labels`` holds ``-100`` on prompt and padding positions, as for the naive loss.
    ``shared_prefix_len`` > 0 means the first that many tokens are identical in every
    row (and unpadded): they are run once and broadcast. It must not reach a response
    token. ``reduction="sum"`` returns the summed loss (for token-weighted averages).
    """
    decoder, head, softcap = decoder_and_head(model)
    if shared_prefix_len > 0:
        shared_prefix_len = min(shared_prefix_len, input_ids.shape[1] - 1)
        if bool((labels[:, : shared_prefix_len + 1] != IGNORE_INDEX).any()):
            raise ValueError("shared_prefix_len reaches into response tokens")
    hidden = _body_hidden(decoder, input_ids, attention_mask, shared_prefix_len)
    # position t predicts token t + 1
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    selected = hidden[:, :-1][keep]
    logits = _head_logits(head, selected, softcap)
    return F.cross_entropy(logits, targets[keep], reduction=reduction)


def common_prefix_len(input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> int:
    """Length of the prompt prefix shared by every row (0 when there is only one row)."""
    if input_ids.shape[0] < 2:
        return 0
    same = (input_ids == input_ids[:1]).all(dim=0) & (attention_mask == 1).all(dim=0)
    same &= (labels == IGNORE_INDEX).all(dim=0)
    if bool(same.all()):
        n = int(same.numel())
    else:
        n = int((~same).int().argmax())
    # leave one prompt token before the first response label for the shifted loss
    return max(0, n - 1)
