"""The tagger network: a decoder LLM's hidden states -> one BIO score vector per word.

Label-supervised fine-tuning (Li et al. 2023): the decoder stack of a causal LM (no LM
head: ``AutoModel``) encodes the text once; a head (LayerNorm, dropout, linear) maps the
hidden state of each word's representative sub-token to tag scores.

* ``num_layers``: only the first N decoder layers run (the others are dropped).
* ``lora_from``: LoRA adapters sit on layers ``>= lora_from``; the layers below are
  frozen and run under ``no_grad`` while training (no activations kept for them).
* ``attention``: ``"causal"`` (the LM's own mask) or ``"bidirectional"`` (Li et al.'s
  unLLaMA: the causal mask removed) on layers ``>= bidirectional_from``. Masks are
  built here as 4D additive masks, padding included, sliding windows respected.
* ``n_features``: per-word knowledge features (dictionary matches, 0/1 columns) that the
  head reads beside the normalised hidden state (0: none).

The layers are called one by one (embeddings, rotary embeddings, decoder layers) for the
decoder families of ``transformers`` that share Llama's layout; Gemma 3's local and
global rotary embeddings are handled.
"""

import logging
from typing import List, Optional, Sequence

import torch
from torch import nn

logger = logging.getLogger(__name__)

ATTENTION_MODES = ("causal", "bidirectional")


def attention_bias(
    attention_mask: torch.Tensor, causal: bool, dtype: torch.dtype, window: Optional[int] = None
) -> torch.Tensor:
    """A ``(batch, 1, T, T)`` additive mask: 0 where a query may attend, the dtype's
    minimum elsewhere. Keys that are padding are never attended; ``causal`` hides later
    tokens; ``window`` limits the distance (sliding-window layers)."""
    n = attention_mask.shape[1]
    device = attention_mask.device
    allowed = attention_mask[:, None, None, :].bool()
    i = torch.arange(n, device=device)[:, None]
    j = torch.arange(n, device=device)[None, :]
    if causal:
        allowed = allowed & (j <= i)
    if window is not None and window < n:
        allowed = allowed & ((i - j).abs() < window)
    bias = torch.zeros(allowed.shape, dtype=dtype, device=device)
    return bias.masked_fill(~allowed, torch.finfo(dtype).min)


class TaggerHead(nn.Module):
    """LayerNorm, dropout, linear; ``n_features`` extra inputs (knowledge features) join
    the normalised hidden state before the linear layer."""

    def __init__(self, hidden_size: int, n_tags: int, dropout: float = 0.1, n_features: int = 0):
        super().__init__()
        self.n_features = n_features
        self.norm = nn.LayerNorm(hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size + n_features, n_tags)

    def forward(self, hidden: torch.Tensor, features: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.dropout(self.norm(hidden))
        if self.n_features:
            if features is None or features.shape[-1] != self.n_features:
                got = None if features is None else features.shape[-1]
                raise ValueError(f"the tagger head reads {self.n_features} knowledge features per word, got {got}")
            x = torch.cat([x, features.to(x.dtype)], dim=-1)
        return self.out(x)


class DecoderTagger(nn.Module):
    """Decoder stack (frozen base + LoRA) and tag head; see the module docstring."""

    def __init__(
        self,
        base: nn.Module,
        n_tags: int,
        num_layers: Optional[int] = None,
        lora_from: int = 0,
        attention: str = "bidirectional",
        bidirectional_from: int = 0,
        dropout: float = 0.1,
        n_features: int = 0,
    ):
        super().__init__()
        if attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}, not {attention!r}")
        total = len(base.layers)
        num_layers = total if not num_layers or num_layers <= 0 else min(int(num_layers), total)
        if not 0 <= lora_from <= num_layers:
            raise ValueError(f"lora_from={lora_from} must lie in [0, num_layers={num_layers}]")
        # drop the unused upper layers (and the final norm, which belongs to the last one)
        base.layers = nn.ModuleList(list(base.layers)[:num_layers])
        base.config.num_hidden_layers = num_layers
        if hasattr(base.config, "layer_types") and base.config.layer_types:
            base.config.layer_types = list(base.config.layer_types)[:num_layers]
        self.base = base
        self.num_layers = num_layers
        self.lora_from = lora_from
        self.attention = attention
        self.bidirectional_from = bidirectional_from
        self.head = TaggerHead(base.config.hidden_size, n_tags, dropout, n_features)
        for p in self.base.parameters():
            p.requires_grad_(False)

    @property
    def dtype(self) -> torch.dtype:
        return self.base.embed_tokens.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.base.embed_tokens.weight.device

    def _causal(self, index: int) -> bool:
        return self.attention == "causal" or index < self.bidirectional_from

    def _window(self, layer) -> Optional[int]:
        attn = getattr(layer, "self_attn", None)
        if getattr(attn, "is_sliding", False) or getattr(layer, "attention_type", None) == "sliding_attention":
            return getattr(self.base.config, "sliding_window", None)
        return None

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, all_layers: bool = False,
               prefix: Optional[torch.Tensor] = None, stop: Optional[int] = None):
        """Hidden states ``(batch, T, hidden)`` of the last kept layer (base dtype), or with
        ``all_layers`` the list of every layer's output (for probing).

        ``prefix``: the output of the frozen layers below ``lora_from`` (:meth:`frozen_states`),
        computed earlier; the run then starts at layer ``lora_from``. ``stop``: run only the
        layers below this index."""
        base = self.base
        n = input_ids.shape[1]
        position_ids = torch.arange(n, device=input_ids.device)[None, :].expand(input_ids.shape[0], -1)
        masks = {}
        outputs: List[torch.Tensor] = []
        first = 0
        if prefix is not None:
            hidden, first = prefix.to(self.dtype), self.lora_from
        else:
            with torch.no_grad():  # embeddings are frozen
                hidden = base.embed_tokens(input_ids)
        rotary = {"position_embeddings": base.rotary_emb(hidden, position_ids)}
        if hasattr(base, "rotary_emb_local"):  # Gemma 3: global and local RoPE
            rotary = {"position_embeddings_global": rotary["position_embeddings"],
                      "position_embeddings_local": base.rotary_emb_local(hidden, position_ids)}
        last = len(base.layers) if stop is None else stop
        for index in range(first, last):
            layer = base.layers[index]
            key = (self._causal(index), self._window(layer))
            if key not in masks:
                masks[key] = attention_bias(attention_mask, key[0], hidden.dtype, key[1])
            frozen = index < self.lora_from
            with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen):
                out = layer(hidden, attention_mask=masks[key], position_ids=position_ids, **rotary)
            hidden = out[0] if isinstance(out, (tuple, list)) else out
            if all_layers:
                outputs.append(hidden)
        return outputs if all_layers else hidden

    @torch.no_grad()
    def frozen_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The output of the frozen layers below ``lora_from`` (``(batch, T, hidden)``):
        they never change while training, so a trainer may compute it once per sentence
        and pass it back as ``prefix``. A real token's state does not depend on the
        padding beside it (padding keys are masked), so a sentence's prefix is the same in
        any batch."""
        return self.encode(input_ids, attention_mask, stop=self.lora_from)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor,
                word_features: Optional[torch.Tensor] = None, prefix: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """Tag scores ``(batch, words, n_tags)`` (float32) for the sub-tokens at ``word_index``
        (``word_features``: ``(batch, words, n_features)`` when the head reads them;
        ``prefix``: see :meth:`encode`)."""
        hidden = self.encode(input_ids, attention_mask, prefix=prefix)
        picked = torch.gather(hidden, 1, word_index[..., None].expand(-1, -1, hidden.shape[-1]))
        return self.head(picked.float(), word_features)


def lora_config(r: int, alpha: int, dropout: float, target_modules, layers: Sequence[int]):
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules,
                      layers_to_transform=list(layers), bias="none")


def add_lora(model: DecoderTagger, config) -> List[str]:
    """Inject LoRA adapters (float32) into the decoder layers in place; returns their names."""
    from peft import inject_adapter_in_model

    if not config.layers_to_transform:
        return []
    config.layers_pattern = "layers"
    inject_adapter_in_model(config, model)
    names = []
    for name, param in model.base.named_parameters():
        if "lora_" in name:
            param.data = param.data.float()
            param.requires_grad_(True)
            names.append(name)
    return names


def lora_state_dict(model: DecoderTagger) -> dict:
    from peft import get_peft_model_state_dict

    return {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model).items()}


def load_lora_state_dict(model: DecoderTagger, state: dict) -> None:
    from peft import set_peft_model_state_dict

    result = set_peft_model_state_dict(model, state)
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ValueError(f"LoRA weights do not fit the model: unexpected keys {unexpected[:3]}...")
