"""Small helpers every layer shares: file hashes, atomic writes, bundled templates, seeded
sampling.

``seeded_sample`` is the one way the project draws a seeded subset (of test sentences,
validation records, benchmark inputs). Samples are nested: with the same seed and total,
the sample of ``n`` holds the sample of every smaller ``n``, so a system scored on 24
sentences can be paired with one scored on 200.
"""

import hashlib
import json
import os
import random
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, Tuple, Union

import srsly

PathLike = Union[str, Path]


# ------------------------------------------------------------------------------ hashing
def file_sha256(path: PathLike) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_file_sha256(path: PathLike, store: PathLike) -> str:
    """:func:`file_sha256`, remembered in the JSON file ``store`` by (path, size, mtime):
    hashing a 1 GB weight file once per machine is enough."""
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{int(stat.st_mtime)}"
    store = Path(store)
    try:
        known = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known[key] = file_sha256(path)
        write_json(known, store)
    return known[key]


def tree_digest(path: PathLike, large: int = 256 << 20) -> str:
    """A digest of a file or a folder's files: contents of small files (configs,
    adapters), size and mtime of files over ``large`` bytes (model weights)."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        digest.update(f"{file.relative_to(path) if path.is_dir() else file.name}:{stat.st_size}".encode())
        if stat.st_size <= large:
            with open(file, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        else:
            digest.update(str(int(stat.st_mtime)).encode())
    return digest.hexdigest()


# ------------------------------------------------------------------------ atomic writes
def _tmp_of(path: Path) -> Path:
    return path.with_name(f"{path.name}.tmp{os.getpid()}")


def write_text(text: str, path: PathLike) -> Path:
    """Write ``text`` so that readers see the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_of(path)
    tmp.write_text(text, encoding="utf8")
    os.replace(tmp, path)
    return path


def write_json(data: Any, path: PathLike, indent: int = 2) -> Path:
    """Atomic JSON file (srsly; non-JSON values such as paths are written as strings)."""
    return write_text(srsly.json_dumps(_jsonable(data), indent=indent) + "\n", path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def read_json(path: PathLike) -> Any:
    path = Path(path)
    try:
        return srsly.read_json(path)
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def write_dir(target: PathLike, write: Callable[[Path], None]) -> Path:
    """Build a folder with ``write(tmp_folder)`` and swap it in for ``target`` at once."""
    target = Path(target)
    tmp = _tmp_of(target)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    old = target.with_name(f"{target.name}.old{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


# ---------------------------------------------------------------------------- templates
def bundled_path(*parts: str) -> Path:
    """Path of a file shipped in ``raredis_llm/templates/``."""
    return Path(str(resources.files("raredis_llm").joinpath("templates", *parts)))


def read_template(path: Optional[PathLike], default: str) -> str:
    """Text of the template file ``path``, or of the bundled ``default`` when empty."""
    file = Path(path) if path else bundled_path(default)
    if not file.exists():
        raise FileNotFoundError(f"Template not found: {file}")
    return file.read_text(encoding="utf8")


def chunked(items: Iterable[Any], size: int):
    """Lists of up to ``size`` consecutive items."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ----------------------------------------------------------------------- seeded sampling
def seeded_order(n_total: int, seed: int) -> List[int]:
    """A seeded permutation of ``range(n_total)``: the order in which items join a sample."""
    order = list(range(n_total))
    random.Random(seed).shuffle(order)
    return order


def seeded_sample(n_total: int, n: Optional[int], seed: int = 0) -> List[int]:
    """``n`` indices of ``range(n_total)`` drawn with ``seed``, in corpus order.

    ``n`` of None, 0 or less, or ``n >= n_total`` gives every index. The sample of ``n`` is
    the first ``n`` of :func:`seeded_order`, so it contains the sample of any smaller ``n``.
    """
    if n_total < 0:
        raise ValueError(f"n_total must be >= 0, got {n_total}")
    if n is None or n <= 0 or n >= n_total:
        return list(range(n_total))
    return sorted(seeded_order(n_total, seed)[:n])


def named_path(text: str, kind: str, form: str = "NAME=PATH") -> Tuple[str, str]:
    """A command line's ``"name=path"`` as ``(name, path)``; ``kind`` and ``form`` name it in
    the error."""
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise ValueError(f"A {kind} is {form}, not {text!r}")
    return name.strip(), path.strip()
