"""The trainable model: a causal LM (shared loader) with a fresh or resumed LoRA adapter.

* CPU: float32 weights (the shared loader's default there).
* CUDA: bfloat16 weights; with ``load_in_4bit`` and ``bitsandbytes`` importable, the
  base is loaded 4-bit NF4 (QLoRA) and prepared for k-bit training.

The base model comes from :func:`raredis_llm.models.loading.load_causal_lm` (offline aliases,
local folders, HF ids from the local cache unless ``local_files_only`` is false). The
4-bit path loads through ``transformers`` directly, because the shared loader takes no
quantization config.
"""

import importlib.util
import logging
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional

from spacy.util import registry

from ..models.lora_settings import LoraSettings

logger = logging.getLogger("raredis_llm")


@dataclass
class BaseModelSettings:
    name: str = "offline:gemma-3-270m"
    device: str = "auto"
    dtype: str = "auto"
    load_in_4bit: bool = False
    attn_implementation: Optional[str] = "sdpa"
    local_files_only: bool = True
    gradient_checkpointing: bool = False

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@registry.misc("raredis.LoraBaseModel.v1")
def make_base_model_settings(
    name: str = "offline:gemma-3-270m",
    device: str = "auto",
    dtype: str = "auto",
    load_in_4bit: bool = False,
    attn_implementation: Optional[str] = "sdpa",
    local_files_only: bool = True,
    gradient_checkpointing: bool = False,
) -> BaseModelSettings:
    """Which base model to fine-tune and how to load it (a Hugging Face id, a folder or
    ``offline:gemma-3-270m``; e.g. ``nlpie/Llama2-MedTuned-7b`` for the paper's base)."""
    return BaseModelSettings(name, device, dtype, load_in_4bit, attn_implementation,
                             local_files_only, gradient_checkpointing)


def bitsandbytes_available() -> bool:
    return importlib.util.find_spec("bitsandbytes") is not None


def load_base(settings: BaseModelSettings, log=logger.info):
    """``(model, tokenizer)`` of the base model, ready to take an adapter."""
    from ..models.loading import load_causal_lm, resolve_device

    device = resolve_device(settings.device)
    if settings.load_in_4bit and device.startswith("cuda"):
        if not bitsandbytes_available():
            raise ImportError("load_in_4bit needs bitsandbytes (pip install bitsandbytes); "
                              "set load_in_4bit = false to train in bf16")
        return _load_4bit(settings, log)
    if settings.load_in_4bit:
        log("load_in_4bit is ignored on CPU (bitsandbytes 4-bit needs CUDA)")
    model, tokenizer = load_causal_lm(
        settings.name,
        device=device,
        dtype=settings.dtype,
        local_files_only=settings.local_files_only,
        attn_implementation=settings.attn_implementation,
        log=log,
    )
    return model, tokenizer


def _load_4bit(settings: BaseModelSettings, log):
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    from ..models.offline import resolve_model

    name = resolve_model(settings.name, log=log)
    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    kwargs: Dict[str, Any] = {"local_files_only": settings.local_files_only}
    tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(
        name, quantization_config=quant, torch_dtype=torch.bfloat16, device_map={"": 0},
        attn_implementation=settings.attn_implementation, **kwargs,
    )
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=settings.gradient_checkpointing)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def attach_lora(model, lora: LoraSettings, adapter_dir: Optional[str] = None,
                gradient_checkpointing: bool = False):
    """Wrap ``model`` in a trainable PEFT model: a new adapter, or ``adapter_dir``'s."""
    from peft import PeftModel, get_peft_model

    if gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    if adapter_dir is not None:
        peft_model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)
    else:
        peft_model = get_peft_model(model, lora.peft_config())
    peft_model.train()
    return peft_model


def count_parameters(model) -> Dict[str, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return {"trainable": int(trainable), "total": int(total)}


def save_untrained_adapter(path, prompt=None, base_model: str = "offline:gemma-3-270m",
                           lora: Optional[LoraSettings] = None, seed: int = 0, log=logger.info):
    """Write a freshly initialised (untrained: LoRA B = 0, so it changes nothing) adapter.

    For wiring and packaging tests only; its record says ``"trained": false``.
    """
    from pathlib import Path

    import torch
    from peft import get_peft_model

    from ..ner.finetuned import ADAPTER_INFO, FinetunePrompt, adapter_info
    from ..util import write_json

    prompt = prompt or FinetunePrompt()
    lora = lora or LoraSettings()
    torch.manual_seed(seed)
    model, _ = load_base(BaseModelSettings(name=base_model, device="cpu", dtype="float32"), log=log)
    peft_model = get_peft_model(model, lora.peft_config())
    path = Path(path)
    peft_model.save_pretrained(str(path))
    write_json(adapter_info(prompt, base_model, lora.to_dict(), trained=False), path / ADAPTER_INFO)
    return path
