"""Where the RareDis files come from, and how they become train/validation/test.

A source folder is one of:

* the public GitHub copy: ``train.zip`` and ``dev.zip`` (each holding ``train/`` or
  ``dev/`` of ``.txt`` + ``.ann``), as in ``$RAREDIS_DIR`` or ``assets/raredis``;
* a folder laid out as RareDis-v1: ``train/ dev/ test/`` of ``.txt`` + ``.ann``
  (a ``test/`` with its texts is the official split).

Split policy: with an official ``test/`` (texts included) the splits are
``train -> train``, ``dev -> validation``, ``test -> test``. Without it (the public
files), ``dev`` becomes ``test`` and ``validation`` is carved from ``train`` by
document, deterministically (seeded shuffle of the sorted document ids).
"""

import hashlib
import os
import random
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Union

#: Public copies of the corpus (BSD-3-Clause GitHub copy of RareDis; CC BY 4.0 release).
PUBLIC_FILES = {
    "train.zip": (
        "https://github.com/meng-ma-biomedical-AI/the-RareDis-corpus/raw/main/corpus/train.zip",
        "553d193355b8904bcf88f7e5d5f4c791",
    ),
    "dev.zip": (
        "https://github.com/meng-ma-biomedical-AI/the-RareDis-corpus/raw/main/corpus/dev.zip",
        "654de28ffe8cec418e5e134a82579136",
    ),
}
ENV_VAR = "RAREDIS_DIR"


class SourceError(FileNotFoundError):
    pass


def md5(path: Union[str, Path]) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(dest: Union[str, Path], source: Optional[Union[str, Path]] = None, log=print) -> Path:
    """Put the corpus files into ``dest``: copied from ``source`` / ``$RAREDIS_DIR`` if set,
    else downloaded from the public URLs; zips are checked against their md5."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    source = source or os.environ.get(ENV_VAR)
    if source:
        src = Path(source).expanduser()
        if not src.is_dir():
            raise SourceError(f"{ENV_VAR}/source {src} is not a folder")
        if _is_v1_layout(src):
            for split in ("train", "dev", "test"):
                if (src / split).is_dir():
                    target = dest / split
                    shutil.rmtree(target, ignore_errors=True)
                    shutil.copytree(src / split, target)
            log(f"Copied RareDis-v1 folders from {src}")
            return dest
        for name, (_, checksum) in PUBLIC_FILES.items():
            if not (src / name).exists():
                raise SourceError(f"{src} has neither {name} nor a RareDis-v1 layout (train/ dev/ test/)")
            shutil.copyfile(src / name, dest / name)
        log(f"Copied {', '.join(PUBLIC_FILES)} from {src}")
    else:
        for name, (url, _) in PUBLIC_FILES.items():
            if not (dest / name).exists():
                log(f"Downloading {url}")
                urllib.request.urlretrieve(url, dest / name)
    for name, (_, checksum) in PUBLIC_FILES.items():
        got = md5(dest / name)
        if got != checksum:
            raise SourceError(f"{dest / name}: md5 {got} != expected {checksum}")
    return dest


def _is_v1_layout(path: Path) -> bool:
    return (path / "train").is_dir() and any((path / "train").glob("*.ann"))


def unpack(folder: Union[str, Path], extract_to: Optional[Union[str, Path]] = None) -> Path:
    """Return a folder with ``train/`` and ``dev/`` of ``.txt`` + ``.ann``.

    A folder already laid out so is returned as it is. Otherwise its zips are extracted
    into ``extract_to`` (default: a new temporary folder, so a read-only or shared source
    folder is never written to) and that folder is returned.
    """
    folder = Path(folder)
    if _is_v1_layout(folder):
        return folder
    zips = [folder / name for name in PUBLIC_FILES if (folder / name).exists()]
    if not zips:
        raise SourceError(f"{folder} has neither train.zip/dev.zip nor train/ dev/ folders of .txt + .ann")
    target = Path(extract_to) if extract_to is not None else Path(tempfile.mkdtemp(prefix="raredis_"))
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            zf.extractall(target)
    if not _is_v1_layout(target):
        raise SourceError(f"{folder}: the zips hold no train/ folder of .txt + .ann")
    return target


def has_official_test(folder: Union[str, Path]) -> bool:
    test = Path(folder) / "test"
    return test.is_dir() and any(test.glob("*.ann")) and any(test.glob("*.txt"))


def plan_splits(folder: Union[str, Path], validation_fraction: float = 0.1, seed: int = 0) -> Dict[str, List[Path]]:
    """Map each output split to its ``.ann`` files (see module docstring for the policy)."""
    from .brat import iter_ann_files

    folder = Path(folder)
    if has_official_test(folder):
        return {
            "train": iter_ann_files(folder / "train"),
            "validation": iter_ann_files(folder / "dev"),
            "test": iter_ann_files(folder / "test"),
        }
    train = iter_ann_files(folder / "train")
    ids = sorted(p.stem for p in train)
    rng = random.Random(seed)
    shuffled = ids[:]
    rng.shuffle(shuffled)
    n_val = max(1, round(len(ids) * validation_fraction)) if len(ids) > 1 else 0
    val_ids = set(shuffled[:n_val])
    return {
        "train": [p for p in train if p.stem not in val_ids],
        "validation": [p for p in train if p.stem in val_ids],
        "test": iter_ann_files(folder / "dev"),
    }
