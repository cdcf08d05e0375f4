"""Write a PEFT LoRA adapter as a llama.cpp GGUF adapter (``--lora`` / ``lora_path``).

The adapter's ``lora_A`` / ``lora_B`` matrices keep their values; only the names change
to llama.cpp's (``blk.3.attn_q.weight.lora_a``), through the ``gguf`` package's tensor
name map for the model's architecture. llama.cpp scales by ``alpha / r``, as PEFT does.
"""

import json
from pathlib import Path
from typing import Optional, Union

from .loading import ADAPTER_CONFIG, read_adapter_tensors

#: ``config.json`` model types -> gguf architecture names, for the bases we ship or document.
ARCHITECTURES = {"gemma3_text": "gemma3", "gemma3": "gemma3", "llama": "llama", "mistral": "llama",
                 "qwen2": "qwen2", "qwen3": "qwen3", "phi3": "phi3"}


def gguf_architecture(base_config: dict) -> str:
    model_type = base_config.get("model_type") or base_config.get("text_config", {}).get("model_type")
    try:
        return ARCHITECTURES[model_type]
    except KeyError:
        raise ValueError(f"No llama.cpp architecture known for model_type {model_type!r} "
                         f"(known: {sorted(ARCHITECTURES)})") from None


def convert_adapter(adapter: Union[str, Path], base_folder: Union[str, Path], output: Union[str, Path],
                    dtype: str = "float32") -> Path:
    """Write ``adapter`` (PEFT folder) for the base model in ``base_folder`` (its
    ``config.json`` gives the architecture and depth) to the GGUF file ``output``."""
    import gguf
    import numpy as np

    adapter, output = Path(adapter), Path(output)
    config = json.loads((adapter / ADAPTER_CONFIG).read_text(encoding="utf8"))
    if config.get("use_dora") or config.get("modules_to_save") or config.get("use_rslora"):
        raise ValueError(f"{adapter}: only plain LoRA adapters convert to GGUF (no DoRA, rsLoRA, modules_to_save)")
    base_config = json.loads((Path(base_folder) / "config.json").read_text(encoding="utf8"))
    arch_name = gguf_architecture(base_config)
    arch = next(a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == arch_name)
    n_layers = int(base_config.get("num_hidden_layers") or base_config["text_config"]["num_hidden_layers"])
    names = gguf.get_tensor_name_map(arch, n_layers)
    tensors = read_adapter_tensors(adapter)
    np_dtype = {"float32": np.float32, "float16": np.float16}[dtype]
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), arch_name)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(config.get("lora_alpha", config["r"])))
    n = 0
    for key in sorted(tensors):
        if ".lora_A." not in key:
            continue
        module = key.split(".lora_A.")[0].replace("base_model.model.", "", 1)
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise ValueError(f"{adapter}: no llama.cpp tensor for {module!r} ({arch_name})")
        a = tensors[key].float().numpy().astype(np_dtype)
        b = tensors[key.replace(".lora_A.", ".lora_B.")].float().numpy().astype(np_dtype)
        writer.add_tensor(target + ".lora_a", a)
        writer.add_tensor(target + ".lora_b", b)
        n += 1
    if not n:
        raise ValueError(f"{adapter}: no lora_A/lora_B weights found")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(output)
    return output


def adapter_gguf(adapter: Union[str, Path], base_folder: Union[str, Path],
                 output: Optional[Union[str, Path]] = None) -> Path:
    """The adapter's GGUF file (``<adapter>/adapter.gguf`` unless ``output``), written when
    missing or older than the adapter's weights."""
    adapter = Path(adapter)
    output = Path(output) if output else adapter / "adapter.gguf"
    weights = [p for p in adapter.glob("adapter_model.*") if p.suffix in (".safetensors", ".bin")]
    newest = max((p.stat().st_mtime for p in weights), default=0)
    if not output.exists() or output.stat().st_mtime < newest:
        convert_adapter(adapter, base_folder, output)
    return output
