"""Small helpers every layer shares: file hashes, atomic writes, bundled templates."""

import hashlib
import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

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
