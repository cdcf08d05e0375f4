"""Load a causal language model and run batched greedy generation with it.

Shared by the in-process spacy-llm backend (``raredis.HFCausalLM.v1``) and the LoRA
fine-tuned component, so both load, pad and decode the same way:

* :func:`load_causal_lm` takes a Hugging Face id, a local folder, a ``.gguf`` file or
  an offline alias (``"offline:gemma-3-270m"``), optionally a PEFT adapter folder, and
  returns ``(model, tokenizer)`` in eval mode, on CUDA with bf16 when a GPU is present
  and on CPU in float32 otherwise. It never downloads unless ``local_files_only=False``
  is passed explicitly.
* :func:`generate` runs greedy decoding over many prompts: sorted by length, batched
  with left padding, KV cache on, each sequence stopping at EOS or at a stop string,
  ``max_new_tokens`` sized to the input when not given. Results come back in input
  order as :class:`~raredis_llm.llm.response.Completion` strings carrying token usage.
"""

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from .offline import resolve_model

if TYPE_CHECKING:  # imported lazily: importing raredis_llm.llm pulls in the whole LLM package
    from ..llm.response import Completion

logger = logging.getLogger(__name__)

#: ``max_new_tokens`` may be an int, a function of the prompt's token count, or None.
MaxNewTokens = Union[None, int, Callable[[int], int]]

DEFAULT_MAX_NEW_TOKENS_CAP = 512


def default_max_new_tokens(n_input: int, cap: int = DEFAULT_MAX_NEW_TOKENS_CAP) -> int:
    """Budget used when none is given: ``2 * input tokens + 20``, at most ``cap``."""
    return max(1, min(2 * int(n_input) + 20, int(cap)))


# --------------------------------------------------------------------------- loading


def resolve_device(device: str = "auto") -> str:
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available here")
    return str(device)


def resolve_dtype(dtype: Any = "auto", device: str = "cpu"):
    """``"auto"``: bf16 on a CUDA device that supports it (else fp16); on a CPU, bf16
    only where it is computed natively, float32 elsewhere (see :mod:`.precision`)."""
    from .precision import resolve_dtype as _resolve

    return _resolve(dtype, device)


def _split_gguf(name: str, gguf_file: Optional[str]) -> Tuple[str, Optional[str]]:
    """``/x/model.gguf`` -> (``/x``, ``model.gguf``); folders and ids pass through."""
    if gguf_file is None and name.lower().endswith(".gguf"):
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        return str(path.parent), path.name
    return name, gguf_file


def load_causal_lm(
    name_or_path: Union[str, Path],
    adapter: Optional[Union[str, Path]] = None,
    device: str = "auto",
    dtype: Any = "auto",
    merge_adapter: bool = False,
    gguf_file: Optional[str] = None,
    local_files_only: bool = True,
    attn_implementation: Optional[str] = None,
    log: Callable[[str], None] = logger.info,
):
    """Load ``(model, tokenizer)`` for generation.

    name_or_path: Hugging Face id (only from the local HF cache unless
        ``local_files_only=False``), a local folder, a ``.gguf`` file (de-quantized by
        transformers: slow, prefer a folder) or ``"offline:gemma-3-270m"``.
    adapter: optional PEFT (LoRA) adapter folder applied on top of the base model.
    merge_adapter: merge the adapter into the weights (faster inference, no unloading).
    The tokenizer pads on the left (what batched decoder-only generation needs) and
    has a pad token (EOS when the model defines none).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if adapter is not None and not (Path(adapter) / "adapter_config.json").exists():
        raise FileNotFoundError(f"No PEFT adapter (adapter_config.json) in {adapter}")
    name = resolve_model(str(name_or_path), log=log)
    name, gguf_file = _split_gguf(name, gguf_file)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    kwargs: Dict[str, Any] = {"local_files_only": local_files_only}
    if gguf_file is not None:
        kwargs["gguf_file"] = gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
        model_kwargs = dict(kwargs, torch_dtype=torch_dtype)
        if attn_implementation:
            model_kwargs["attn_implementation"] = attn_implementation
        model = AutoModelForCausalLM.from_pretrained(name, **model_kwargs)
    except OSError as err:
        hint = (
            " It is not a local folder and is not in the local Hugging Face cache; "
            "pass a local path, an offline alias such as 'offline:gemma-3-270m', or "
            "local_files_only=False to allow downloading."
            if local_files_only and not Path(name).exists()
            else ""
        )
        raise OSError(f"Could not load causal LM {str(name_or_path)!r}.{hint} ({err})") from err
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
        if merge_adapter:
            model = model.merge_and_unload()
    model.to(dev)
    model.eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    gen_config = getattr(model, "generation_config", None)
    if gen_config is not None and gen_config.pad_token_id is None:
        gen_config.pad_token_id = tokenizer.pad_token_id
    model._raredis_source = {"name": str(name_or_path), "adapter": str(adapter) if adapter else None}
    return model, tokenizer


def context_length_of(name_or_path: Union[str, Path], local_files_only: bool = True) -> Optional[int]:
    """The model's context size from its config (``max_position_embeddings``), or None."""
    try:
        from transformers import AutoConfig

        name, gguf_file = _split_gguf(resolve_model(str(name_or_path), log=logger.info), None)
        kwargs: Dict[str, Any] = {"local_files_only": local_files_only}
        if gguf_file:
            kwargs["gguf_file"] = gguf_file
        config = AutoConfig.from_pretrained(name, **kwargs)
    except (OSError, ValueError, ImportError) as err:
        logger.debug("No context length for %s: %s", name_or_path, err)
        return None
    value = getattr(config, "max_position_embeddings", None)
    return int(value) if value else None


def _hash_files(paths: Sequence[Path], digest) -> None:
    for path in sorted(paths):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}".encode())
        if stat.st_size <= 256 << 20:  # small files (configs, adapters): hash contents
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        else:  # large weights: size + mtime is enough to notice a re-export
            digest.update(str(int(stat.st_mtime)).encode())


def model_fingerprint(name_or_path: Union[str, Path], adapter: Optional[Union[str, Path]] = None) -> str:
    """A stable id for cache keys: the name plus a digest of local files (if any).

    Hugging Face ids are used as given; local folders/files and adapters add a digest of
    their configs and weights, so retraining an adapter into the same folder changes it.
    """
    parts = [str(name_or_path)]
    for item in (name_or_path, adapter):
        if item is None:
            continue
        if str(item).startswith("offline:"):
            # the cached folder's name carries the package's sha256 and the conversion
            # version ("-bpe"), so a re-conversion with a repaired tokenizer is a new model
            parts.append(Path(resolve_model(str(item), log=logger.info)).name)
            continue
        path = Path(str(item))
        if not path.exists():
            continue
        digest = hashlib.sha256()
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        _hash_files(files, digest)
        parts.append(f"{path.name}@{digest.hexdigest()[:16]}")
    if adapter is not None:
        parts.insert(1, f"adapter={adapter}")
    return "|".join(parts)


# ------------------------------------------------------------------------ generation


def apply_chat_template(tokenizer, prompts: Sequence[str], system: Optional[str] = None) -> List[str]:
    """Wrap each prompt as one user turn with the tokenizer's chat template."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            "This tokenizer has no chat template (a base model?): set chat_template = false "
            "to send plain completion prompts"
        )
    out = []
    for prompt in prompts:
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": prompt}
        ]
        out.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return out


def _budget(max_new_tokens: MaxNewTokens, n_input: int, cap: int) -> int:
    if max_new_tokens is None:
        return default_max_new_tokens(n_input, cap)
    if callable(max_new_tokens):
        return max(1, int(max_new_tokens(n_input)))
    return max(1, int(max_new_tokens))


def _eos_ids(model, tokenizer) -> List[int]:
    ids: List[int] = []
    gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (gen_eos, tokenizer.eos_token_id):
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if int(item) not in ids:
                ids.append(int(item))
    return ids


def _cut_at_stop(text: str, stop: Sequence[str]) -> Tuple[str, bool]:
    cut = len(text)
    for s in stop:
        pos = text.find(s)
        if pos != -1:
            cut = min(cut, pos)
    return text[:cut], cut < len(text)


def generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: MaxNewTokens = None,
    batch_size: int = 8,
    stop: Optional[Sequence[str]] = None,
    progress: bool = False,
    max_new_tokens_cap: int = DEFAULT_MAX_NEW_TOKENS_CAP,
    budgets: Optional[Sequence[Optional[int]]] = None,
) -> List["Completion"]:
    """Greedy completions of ``prompts``, in input order.

    Prompts are tokenized unpadded, sorted by length (longest first: a memory problem
    shows up on the first batch, and batches hold similar lengths) and generated
    ``batch_size`` at a time with left padding. Each sequence gets its own budget
    (``max_new_tokens``: int, ``f(n_input_tokens)``, or None for
    :func:`default_max_new_tokens`), stops at EOS and at any of ``stop`` (the stop
    string is not returned, as in the OpenAI API). Because decoding is greedy and each
    output is cut to its own budget, a prompt's completion does not depend on the batch
    it was in. ``budgets`` (one per prompt, None for "use max_new_tokens") overrides
    the budget of single prompts. A BOS token is not added twice when the prompt text already starts with
    it (chat templates do that).
    """
    import torch

    prompts = [str(p) for p in prompts]
    if not prompts:
        return []
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    stop = [s for s in (stop or []) if s]
    bos = tokenizer.bos_token
    encoded: List[List[int]] = []
    for prompt in prompts:
        special = not (bos and prompt.startswith(bos))
        encoded.append(tokenizer(prompt, add_special_tokens=special)["input_ids"])
    if budgets is not None and len(budgets) != len(prompts):
        raise ValueError(f"{len(budgets)} budgets for {len(prompts)} prompts")
    given = list(budgets) if budgets is not None else [None] * len(prompts)
    limits = [
        max(1, int(b)) if b is not None else _budget(max_new_tokens, len(ids), max_new_tokens_cap)
        for b, ids in zip(given, encoded)
    ]
    order = sorted(range(len(prompts)), key=lambda i: (-len(encoded[i]), i))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else _eos_ids(model, tokenizer)[0]
    eos_ids = _eos_ids(model, tokenizer)
    device = next(model.parameters()).device
    results: List[Optional["Completion"]] = [None] * len(prompts)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(prompts), desc="generate", unit="prompt")
    try:
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(encoded[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids = encoded[i]
                if ids:
                    input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                    attention[row, width - len(ids) :] = 1
            gen_kwargs: Dict[str, Any] = dict(
                max_new_tokens=max(limits[i] for i in batch),
                do_sample=False,
                num_beams=1,
                use_cache=True,
                pad_token_id=pad_id,
                eos_token_id=eos_ids or None,
                # neutralise sampling defaults some checkpoints ship (avoids warnings)
                temperature=None,
                top_p=None,
                top_k=None,
            )
            if stop:
                gen_kwargs.update(stop_strings=list(stop), tokenizer=tokenizer)
            with torch.inference_mode():
                out = model.generate(
                    input_ids=input_ids.to(device), attention_mask=attention.to(device), **gen_kwargs
                )
            new_tokens = out[:, width:].tolist()
            for row, i in enumerate(batch):
                results[i] = _finish(new_tokens[row][: limits[i]], len(encoded[i]), tokenizer, eos_ids, pad_id, stop)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return results  # type: ignore[return-value]


def _finish(tokens: List[int], n_input: int, tokenizer, eos_ids: List[int], pad_id: int, stop) -> "Completion":
    """Cut one generated sequence at EOS / stop string; count the tokens produced."""
    from ..llm.response import Completion

    finish = "length"
    kept = tokens
    for pos, tok in enumerate(tokens):
        if tok in eos_ids:
            kept, finish = tokens[:pos], "stop"
            break
    n_generated = len(kept) + (1 if finish == "stop" else 0)
    text = tokenizer.decode(kept, skip_special_tokens=True)
    if stop:
        text, hit = _cut_at_stop(text, stop)
        if hit:
            finish = "stop"
            # generate() pads a sequence that hit a stop string; do not count the pads
            while kept and kept[-1] == pad_id and pad_id not in eos_ids:
                kept = kept[:-1]
            n_generated = len(kept)
    usage = {"prompt_tokens": n_input, "completion_tokens": n_generated}
    return Completion(text, usage=usage, meta={"finish_reason": finish})
