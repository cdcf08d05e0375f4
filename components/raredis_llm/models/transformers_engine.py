"""The in-process ``transformers`` engine: batched greedy decoding, fast on a CPU.

Two decoders over the same loaded model:

* ``"fast"`` (default): prompts in token order, each prefilled alone and unpadded, taking
  the key/value cache of the prefix it shares with the previous prompt (instructions,
  fixed examples, a cluster's examples, a retrieved chunk) instead of running it again;
  the caches are then left-padded into one decoding batch; finished rows leave the batch
  (in groups: each removal copies the cache); key/value heads are never copied per query
  head (``"sdpa_gqa"`` attention, ``models/attention.py``); under a
  :class:`~.engine.Constraint` the output layer is computed only for the tokens the answer
  may use (hundreds instead of Gemma's 262k rows).
* ``"hf"``: plain ``model.generate`` on left-padded batches, the reference the fast
  decoder is measured against (constraints through a logits mask).

Both are exact greedy decoders; they differ only by floating-point rounding, which the
benchmark counts (sentences with exactly the same entities).
"""

import logging
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..util import chunked
from .completion import Completion
from .engine import Constraint, Engine, OnResult, check_requests, cut_at_stop
from .loading import context_length_of, decoder_and_head, load_causal_lm, model_fingerprint, resolve_device
from .precision import resolve_dtype_name, resolve_threads
from .vocabulary import AllowedTokens

logger = logging.getLogger(__name__)

DECODERS = ("fast", "hf")
#: A shared prefix shorter than this is recomputed (the cache bookkeeping costs more).
MIN_PREFIX = 8
#: Finished rows leave a decoding batch once they are 1 / COMPACT_FRACTION of it.
COMPACT_FRACTION = 4


class TransformersEngine(Engine):
    kind = "transformers"
    supports_constraint = True

    def __init__(
        self,
        name: str = "offline:gemma-3-270m",
        adapter: Optional[str] = None,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 16,
        decoder: str = "fast",
        reuse_prefix: bool = True,
        quantize: Optional[str] = None,
        threads: int = 0,
        local_files_only: bool = True,
        attn_implementation: Optional[str] = "sdpa_gqa",
        log: Callable[[str], None] = logger.info,
    ):
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, not {decoder!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        if quantize not in (None, "int8"):
            raise ValueError(f"quantize must be null or \"int8\", not {quantize!r}")
        self.name = str(name)
        self.adapter = str(adapter) if adapter else None
        self.device = resolve_device(device)
        self.dtype_name, self.dtype_reason = resolve_dtype_name(dtype, self.device)
        self.batch_size = int(batch_size)
        self.decoder = decoder
        self.reuse_prefix = bool(reuse_prefix)
        self.quantize = quantize
        self.threads = threads
        self.local_files_only = local_files_only
        self.attn_implementation = attn_implementation
        self.log = log
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self._fingerprint: Optional[str] = None
        self._allowed: Optional[AllowedTokens] = None
        self._prefix: Optional[Tuple[Tuple[int, ...], List[Tuple[Any, Any]]]] = None
        #: fast decoder: prompt tokens seen and those actually run (the rest came from a cache)
        self.prefill_stats = {"prompt_tokens": 0, "computed_tokens": 0}

    @classmethod
    def from_model(cls, model, tokenizer, *, batch_size: int = 16, decoder: str = "fast",
                   reuse_prefix: bool = True, name: str = "in-memory") -> "TransformersEngine":
        """An engine around a model already in memory (training-time validation)."""
        engine = cls(name, device=str(next(model.parameters()).device),
                     dtype=str(next(model.parameters()).dtype), batch_size=batch_size,
                     decoder=decoder, reuse_prefix=reuse_prefix)
        engine._model, engine._tokenizer = model, tokenizer
        engine._fingerprint = name
        return engine

    # ---------------------------------------------------------------- loading
    def load(self):
        """Load (once) and return ``(model, tokenizer)``."""
        with self._lock:
            if self._model is None:
                import torch

                if self.device == "cpu":
                    torch.set_num_threads(resolve_threads(self.threads))
                model, tokenizer = load_causal_lm(
                    self.name, adapter=self.adapter, device=self.device, dtype=self.dtype_name,
                    local_files_only=self.local_files_only, attn_implementation=self.attn_implementation,
                    log=self.log)
                if self.quantize == "int8":
                    model = _quantize_int8(model)
                self.log(f"{self.name}: {self.dtype_name} on {self.device} ({self.dtype_reason}), "
                         f"{torch.get_num_threads()} threads, decoder {self.decoder}, attention {self.attn_implementation}"
                         + (", int8 linear layers" if self.quantize else ""))
                self._model, self._tokenizer = model, tokenizer
        return self._model, self._tokenizer

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def tokenizer(self):
        return self.load()[1]

    def close(self) -> None:
        with self._lock:
            self._model = self._tokenizer = self._prefix = None

    @property
    def model_id(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = "hf:" + model_fingerprint(self.name, self.adapter)
        return self._fingerprint

    def settings(self) -> Dict[str, Any]:
        # the decoder and prefix reuse do not change answers beyond rounding; dtype does
        return {"engine": self.kind, "dtype": self.dtype_name, "quantize": self.quantize}

    @property
    def context_length(self) -> Optional[int]:
        return context_length_of(self.name, local_files_only=self.local_files_only)

    # ---------------------------------------------------------------- tokens
    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, prompt: str) -> List[int]:
        """Token ids of a prompt: BOS added unless the text already starts with it."""
        tokenizer = self.tokenizer
        bos = tokenizer.bos_token
        return list(tokenizer(prompt, add_special_tokens=not (bos and prompt.startswith(bos)))["input_ids"])

    def eos_ids(self) -> List[int]:
        model, tokenizer = self.load()
        ids: List[int] = []
        gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
        for value in (gen_eos, tokenizer.eos_token_id):
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if item is not None and int(item) not in ids:
                    ids.append(int(item))
        return ids

    def allowed_ids(self, constraint: Constraint) -> List[int]:
        if self._allowed is None:
            self._allowed = AllowedTokens.from_tokenizer(self.tokenizer, always=self.eos_ids())
        return self._allowed.ids(constraint)

    # ---------------------------------------------------------------- generation
    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: Sequence[int],
        stop: Sequence[str] = (),
        constraints: Optional[Sequence[Optional[Constraint]]] = None,
        on_result: Optional[OnResult] = None,
    ) -> List[Completion]:
        import torch

        constraints = check_requests(prompts, max_new_tokens, constraints)
        if not prompts:
            return []
        self.load()
        encoded = [self.encode(str(p)) for p in prompts]
        budgets = [max(1, int(b)) for b in max_new_tokens]
        allowed = [self.allowed_ids(c) if c is not None else None for c in constraints]
        results: List[Optional[Completion]] = [None] * len(prompts)

        def done(i: int, tokens: List[int], finish: str) -> None:
            results[i] = self._completion(tokens, finish, len(encoded[i]), stop)
            if on_result is not None:
                on_result(i, results[i])

        if self.decoder == "fast":  # token order: neighbours share prefixes (see _prefill)
            order, run = sorted(range(len(prompts)), key=lambda i: (encoded[i], i)), self._run_fast
        else:  # length order: little padding
            order, run = sorted(range(len(prompts)), key=lambda i: (-len(encoded[i]), i)), self._run_hf
        with torch.inference_mode():
            for batch in chunked(order, self.batch_size):
                run(batch, encoded, budgets, [s for s in stop if s], allowed, done)
        return results  # type: ignore[return-value]

    def _completion(self, tokens: List[int], finish: str, n_prompt: int, stop: Sequence[str]) -> Completion:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        n_generated = len(tokens) + (1 if finish == "stop" else 0)
        text, hit = cut_at_stop(text, stop)
        if hit:
            finish = "stop"
        return Completion(text, usage={"prompt_tokens": n_prompt, "completion_tokens": n_generated},
                          meta={"finish_reason": finish})

    def _stopped(self, tokens: List[int], stop: Sequence[str]) -> bool:
        if not stop or not tokens:
            return False
        tail = self.tokenizer.decode(tokens[-8:], skip_special_tokens=True)
        return any(s in tail for s in stop)

    # ------------------------------------------------------------ fast decoder
    def _prefill(self, ids: Sequence[int]):
        """Key/value cache (batch 1) of ``ids`` and the hidden state of its last token.

        The longest prefix ``ids`` shares with the previous prompt (kept in ``_prefix``)
        is taken from that prompt's cache instead of being run again: prompts come in
        token order, so neighbours share their instructions, fixed examples, a cluster's
        examples or a retrieved chunk. Every prompt runs alone, unpadded: a batch of
        prompts of different lengths wastes no work on padding.
        """
        import torch

        body = decoder_and_head(self._model)[0]
        key = tuple(ids)
        start, layers = 0, None
        if self.reuse_prefix and self._prefix is not None:
            old_ids, old_layers = self._prefix
            n = min(_common_len(old_ids, key), len(key) - 1)  # the last token is run: its hidden state
            if n >= MIN_PREFIX:
                start = n
                layers = [(k[:, :, :n], v[:, :, :n]) for k, v in old_layers]
        cache = _cache_from(layers, 1)
        dev = self._device
        self.prefill_stats["prompt_tokens"] += len(key)
        self.prefill_stats["computed_tokens"] += len(key) - start
        out = body(input_ids=torch.tensor([key[start:]], dtype=torch.long, device=dev),
                   attention_mask=torch.ones((1, len(key)), dtype=torch.long, device=dev),
                   position_ids=torch.arange(start, len(key), device=dev)[None],
                   cache_position=torch.arange(start, len(key), device=dev),
                   past_key_values=cache, use_cache=True)
        layers = [(cache.key_cache[i], cache.value_cache[i]) for i in range(len(cache.key_cache))]
        self._prefix = (key, layers)
        return layers, out.last_hidden_state[0, -1]

    @property
    def _device(self):
        return next(self._model.parameters()).device

    def _run_fast(self, batch, encoded, budgets, stop, allowed, done) -> None:
        import torch

        model = self._model
        body, head, _ = decoder_and_head(model)
        weight = _head_weight(model, head)
        dev = self._device
        rows = list(batch)
        ids = [encoded[i] for i in rows]
        n = len(rows)
        # each prompt prefilled alone, then the caches left-padded into one decoding batch
        prefilled = [self._prefill(x) for x in ids]
        kv_len = max(len(x) for x in ids)
        mask = torch.zeros((n, kv_len), dtype=torch.long, device=dev)
        for r, x in enumerate(ids):
            mask[r, kv_len - len(x):] = 1
        cache = _cache_from(None, n)
        for layer in range(len(prefilled[0][0])):
            k0, v0 = prefilled[0][0][layer]
            keys = k0.new_zeros((n, k0.shape[1], kv_len, k0.shape[3]))
            values = v0.new_zeros((n, v0.shape[1], kv_len, v0.shape[3]))
            for r, (layers, _) in enumerate(prefilled):
                k, v = layers[layer]
                keys[r, :, kv_len - k.shape[2]:] = k[0]
                values[r, :, kv_len - v.shape[2]:] = v[0]
            cache.update(keys, values, layer)
        hidden = torch.stack([h for _, h in prefilled])
        del prefilled
        picker = _Picker(weight, [allowed[i] for i in rows], dev)
        next_tokens = picker(hidden)
        last_pos = torch.tensor([len(x) - 1 for x in ids], device=dev)
        active = list(range(n))  # positions in the original batch of the rows in the cache
        alive = [True] * n  # per slot: its row is still generating
        generated: List[List[int]] = [[] for _ in rows]
        eos = set(self.eos_ids())
        while True:
            for slot, r in enumerate(active):
                if not alive[slot]:
                    continue
                tok = int(next_tokens[slot])
                alive[slot] = False
                if tok in eos:
                    done(rows[r], generated[r], "stop")
                    continue
                generated[r].append(tok)
                if self._stopped(generated[r], stop):
                    done(rows[r], generated[r], "stop")
                elif len(generated[r]) >= budgets[rows[r]]:
                    done(rows[r], generated[r], "length")
                else:
                    alive[slot] = True
            keep = [slot for slot, a in enumerate(alive) if a]
            if not keep:
                return
            # Finished rows leave the cache in groups (each removal copies the whole cache):
            # until a quarter of the slots are finished they ride along, their tokens unused.
            if len(active) - len(keep) >= max(1, len(active) // COMPACT_FRACTION):
                index = torch.tensor(keep, device=dev)
                cache.reorder_cache(index)
                mask, last_pos, next_tokens = mask[index], last_pos[index], next_tokens[index]
                picker.keep(index)
                active = [active[s] for s in keep]
                alive = [True] * len(active)
            mask = torch.cat([mask, torch.ones((len(active), 1), dtype=mask.dtype, device=dev)], dim=1)
            last_pos = last_pos + 1
            out = body(input_ids=next_tokens[:, None], attention_mask=mask, position_ids=last_pos[:, None],
                       cache_position=torch.tensor([kv_len], device=dev), past_key_values=cache, use_cache=True)
            kv_len += 1
            next_tokens = picker(out.last_hidden_state[:, -1])

    # -------------------------------------------------------------- hf decoder
    def _run_hf(self, batch, encoded, budgets, stop, allowed, done) -> None:
        import torch

        model, tokenizer = self._model, self._tokenizer
        rows = list(batch)
        width = max(len(encoded[i]) for i in rows)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_ids()[0]
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, i in enumerate(rows):
            input_ids[r, width - len(encoded[i]):] = torch.tensor(encoded[i], dtype=torch.long)
            mask[r, width - len(encoded[i]):] = 1
        kwargs: Dict[str, Any] = dict(
            max_new_tokens=max(budgets[i] for i in rows), do_sample=False, num_beams=1, use_cache=True,
            pad_token_id=pad, eos_token_id=self.eos_ids(), temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=tokenizer)
        if any(allowed[i] is not None for i in rows):
            from transformers import LogitsProcessorList

            kwargs["logits_processor"] = LogitsProcessorList([_AllowedMask([allowed[i] for i in rows])])
        out = model.generate(input_ids=input_ids.to(self._device), attention_mask=mask.to(self._device), **kwargs)
        eos = set(self.eos_ids())
        for r, i in enumerate(rows):
            tokens = out[r, width:].tolist()[: budgets[i]]
            finish, kept = "length", tokens
            for pos, tok in enumerate(tokens):
                if tok in eos:
                    kept, finish = tokens[:pos], "stop"
                    break
            if finish == "length" and stop:  # generate() pads rows that hit a stop string
                while kept and kept[-1] == pad and pad not in eos:
                    kept = kept[:-1]
            done(i, kept, finish)


class _Picker:
    """Greedy next token per row: over the allowed tokens only when every row is
    constrained (a small output layer), else over the whole vocabulary (masked rows)."""

    def __init__(self, weight, allowed: Sequence[Optional[List[int]]], device):
        import torch

        self.full = any(a is None for a in allowed)
        self.weight = weight
        if self.full:
            self.vocab = None
            self.mask = None
            if any(a is not None for a in allowed):
                mask = torch.zeros((len(allowed), weight.shape[0]), dtype=torch.bool)
                for r, a in enumerate(allowed):
                    if a is not None:
                        mask[r] = True
                        mask[r, a] = False
                self.mask = mask.to(device)
            return
        union = sorted({t for a in allowed for t in a})  # type: ignore[union-attr]
        self.vocab = torch.tensor(union, dtype=torch.long, device=device)
        self.weight = weight[self.vocab]
        where = {t: j for j, t in enumerate(union)}
        mask = torch.ones((len(allowed), len(union)), dtype=torch.bool)
        for r, a in enumerate(allowed):
            mask[r, [where[t] for t in a]] = False  # type: ignore[union-attr]
        self.mask = mask.to(device)

    def __call__(self, hidden):
        logits = hidden.to(self.weight.dtype) @ self.weight.T
        if self.mask is not None:
            logits = logits.masked_fill(self.mask, float("-inf"))
        best = logits.argmax(dim=-1)
        return best if self.vocab is None else self.vocab[best]

    def keep(self, index) -> None:
        if self.mask is not None:
            self.mask = self.mask[index]


class _AllowedMask:
    """``transformers`` logits processor: -inf outside each row's allowed tokens."""

    def __init__(self, allowed: Sequence[Optional[List[int]]]):
        self.allowed = allowed
        self._mask = None

    def __call__(self, input_ids, scores):
        import torch

        if self._mask is None:
            mask = torch.zeros_like(scores, dtype=torch.bool)
            for r, a in enumerate(self.allowed):
                if a is not None:
                    mask[r] = True
                    mask[r, a] = False
            self._mask = mask
        return scores.masked_fill(self._mask, float("-inf"))


def _common_len(*seqs: Sequence[int]) -> int:
    """Length of the longest common prefix of token id sequences."""
    first = seqs[0]
    n = min(len(s) for s in seqs)
    for pos in range(n):
        tok = first[pos]
        if any(s[pos] != tok for s in seqs[1:]):
            return pos
    return n


def _cache_from(layers, batch: int):
    """A fresh ``DynamicCache`` holding ``layers`` (batch 1) for ``batch`` rows, or empty."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for i, (k, v) in enumerate(layers or []):
        cache.update(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1), i)
    return cache


def _head_weight(model, head):
    """The output layer's weight matrix (the float embeddings when the head is quantized)."""
    weight = getattr(head, "weight", None)
    if weight is None or not weight.is_floating_point():
        weight = model.get_input_embeddings().weight
    return weight


def _quantize_int8(model):
    """Dynamic int8 quantization of the decoder's linear layers (CPU, float32 models)."""
    import torch

    if next(model.parameters()).dtype != torch.float32:
        raise ValueError("quantize = \"int8\" needs float32 weights (dtype = \"float32\")")
    body = decoder_and_head(model)[0]
    torch.ao.quantization.quantize_dynamic(body, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    return model
