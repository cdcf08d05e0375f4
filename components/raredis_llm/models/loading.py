"""Load a causal LM (and a LoRA adapter) for inference, offline unless asked otherwise.

A model is a Hugging Face id (local cache only unless ``local_files_only=False``), a
local folder, a ``.gguf`` file or an offline alias (``"offline:gemma-3-270m"``). A LoRA
adapter (PEFT's file layout) is merged into the weights at load: the weights are frozen
at inference, so merged and separate LoRA products give the same answers, and merging
needs neither ``peft`` nor extra matrix products per token.
"""

import json
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ..util import tree_digest
from .offline import resolve_model
from .precision import resolve_dtype
from .attention import NAME as ATTENTION_GQA, register as register_attention

logger = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def resolve_device(device: str = "auto") -> str:
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available here")
    return str(device)


def split_gguf(name: str, gguf_file: Optional[str] = None) -> Tuple[str, Optional[str]]:
    """``/x/model.gguf`` -> (``/x``, ``model.gguf``); folders and ids pass through."""
    if gguf_file is None and name.lower().endswith(".gguf"):
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        return str(path.parent), path.name
    return name, gguf_file


def check_adapter(adapter: Union[str, Path]) -> Path:
    path = Path(adapter)
    if not (path / ADAPTER_CONFIG).exists():
        raise FileNotFoundError(f"No LoRA adapter ({ADAPTER_CONFIG}) in {path}")
    return path


def load_causal_lm(
    name_or_path: Union[str, Path],
    adapter: Optional[Union[str, Path]] = None,
    device: str = "auto",
    dtype: Any = "auto",
    local_files_only: bool = True,
    attn_implementation: Optional[str] = "sdpa",
    log: Callable[[str], None] = logger.info,
):
    """``(model, tokenizer)`` in eval mode, the adapter (if any) merged into the weights.

    The tokenizer pads on the left and has a pad token (EOS when the model has none).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if adapter is not None:
        check_adapter(adapter)
    name, gguf_file = split_gguf(resolve_model(str(name_or_path), log=log))
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev, log=log)
    kwargs: Dict[str, Any] = {"local_files_only": local_files_only}
    if gguf_file is not None:
        kwargs["gguf_file"] = gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
        model_kwargs = dict(kwargs, torch_dtype=torch_dtype)
        if attn_implementation:
            if attn_implementation == ATTENTION_GQA:
                register_attention()
            model_kwargs["attn_implementation"] = attn_implementation
        model = AutoModelForCausalLM.from_pretrained(name, **model_kwargs)
    except OSError as err:
        hint = (" It is not a local folder and is not in the local Hugging Face cache; pass a "
                "local path, an offline alias such as 'offline:gemma-3-270m', or "
                "local_files_only=False to allow downloading."
                if local_files_only and not Path(name).exists() else "")
        raise OSError(f"Could not load causal LM {str(name_or_path)!r}.{hint} ({err})") from err
    if adapter is not None:
        merge_lora(model, adapter)
    model.to(dev)
    model.eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    gen_config = getattr(model, "generation_config", None)
    if gen_config is not None and gen_config.pad_token_id is None:
        gen_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def merge_lora(model, adapter: Union[str, Path]) -> int:
    """Add a LoRA adapter's ``scale * B @ A`` to the weights it targets; returns how many.

    Reads PEFT's ``adapter_config.json`` + ``adapter_model.safetensors``. DoRA and
    trained extra modules (``modules_to_save``) are refused: they are no plain LoRA.
    """
    import torch

    path = check_adapter(adapter)
    config = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf8"))
    if config.get("use_dora") or config.get("modules_to_save"):
        raise ValueError(f"{path}: DoRA / modules_to_save adapters cannot be merged as plain LoRA")
    r = int(config["r"])
    alpha = float(config.get("lora_alpha", r))
    scale = alpha / (r ** 0.5) if config.get("use_rslora") else alpha / r
    merged = merge_lora_tensors(model, read_adapter_tensors(path), scale, bool(config.get("fan_in_fan_out")))
    if not merged:
        raise ValueError(f"{path}: no lora_A/lora_B weights found")
    return merged


def merge_lora_tensors(model, tensors: Dict[str, Any], scale: float, fan_in_fan_out: bool = False) -> int:
    """Add ``scale * B @ A`` of each ``...lora_A.weight`` / ``...lora_B.weight`` pair of
    ``tensors`` (PEFT's names) to the weight of ``model`` it targets; returns how many."""
    import torch

    params = dict(model.named_parameters())
    merged = 0
    for key, a in tensors.items():
        if ".lora_A." not in key:
            continue
        b = tensors[key.replace(".lora_A.", ".lora_B.")]
        target = _target_name(key, params)
        weight = params[target]
        delta = (b.float() @ a.float()) * scale
        if fan_in_fan_out:
            delta = delta.T
        with torch.no_grad():
            weight.copy_((weight.float() + delta.to(weight.device)).to(weight.dtype))
        merged += 1
    return merged


def read_adapter_tensors(path: Union[str, Path]) -> Dict[str, Any]:
    """The adapter's tensors by PEFT name (``...q_proj.lora_A.weight``)."""
    path = Path(path)
    if (path / ADAPTER_WEIGHTS[0]).exists():
        from safetensors.torch import load_file

        return load_file(str(path / ADAPTER_WEIGHTS[0]))
    if (path / ADAPTER_WEIGHTS[1]).exists():
        import torch

        return torch.load(path / ADAPTER_WEIGHTS[1], map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{path}: no {' or '.join(ADAPTER_WEIGHTS)}")


def _target_name(key: str, params: Dict[str, Any]) -> str:
    """``base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`` ->
    ``model.layers.0.self_attn.q_proj.weight`` (whatever prefix the model uses)."""
    module = key.split(".lora_A.")[0]
    for prefix in ("base_model.model.", ""):
        if module.startswith(prefix):
            candidate = module[len(prefix):] + ".weight"
            if candidate in params:
                return candidate
    for name in params:  # e.g. a model wrapped differently from the one trained
        if name.endswith(module.split("base_model.model.")[-1] + ".weight"):
            return name
    raise KeyError(f"The adapter targets {module!r}, which this model does not have")


def context_length_of(name_or_path: Union[str, Path], local_files_only: bool = True) -> Optional[int]:
    """The model's context size from its config (``max_position_embeddings``), or None."""
    try:
        from transformers import AutoConfig

        name, gguf_file = split_gguf(resolve_model(str(name_or_path), log=logger.info))
        kwargs: Dict[str, Any] = {"local_files_only": local_files_only}
        if gguf_file:
            kwargs["gguf_file"] = gguf_file
        config = AutoConfig.from_pretrained(name, **kwargs)
    except (OSError, ValueError, ImportError) as err:
        logger.debug("No context length for %s: %s", name_or_path, err)
        return None
    value = getattr(config, "max_position_embeddings", None)
    return int(value) if value else None


def model_fingerprint(name_or_path: Union[str, Path], adapter: Optional[Union[str, Path]] = None) -> str:
    """A stable id for cache keys: the name plus a digest of local files (if any).

    Hugging Face ids are used as given; local folders/files and adapters add a digest of
    their files, so retraining an adapter into the same folder changes it. An offline
    alias adds its cached folder's name, which carries the package's checksum and the
    conversion version.
    """
    parts = [str(name_or_path)]
    if adapter is not None:
        parts.append(f"adapter={adapter}")
    for item in (name_or_path, adapter):
        if item is None:
            continue
        if str(item).startswith("offline:"):
            parts.append(Path(resolve_model(str(item), log=logger.info)).name)
            continue
        path = Path(str(item))
        if path.exists():
            parts.append(f"{path.name}@{tree_digest(path)[:16]}")
    return "|".join(parts)


def decoder_and_head(model):
    """``(decoder body, output embedding module, final logit softcap or None)`` of a
    causal LM, inside a PEFT wrapper or not."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = inner.get_decoder() if hasattr(inner, "get_decoder") else inner.model
    head = inner.get_output_embeddings()
    softcap = getattr(inner.config, "final_logit_softcapping", None)
    return decoder, head, softcap


def apply_chat_template(tokenizer, prompt: str, system: Optional[str] = None) -> str:
    """``prompt`` as one user turn (after an optional system turn) in the model's chat format."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("This tokenizer has no chat template (a base model?): set chat_template = false "
                         "to send plain completion prompts")
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
