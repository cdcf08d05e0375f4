"""Shared test set-up: never reach a model hub; find the RareDis files."""

import os
import zipfile
from pathlib import Path
from typing import List

import pytest
from spacy.tokens import DocBin

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def raredis_dir() -> Path:
    """The folder with RareDis train.zip/dev.zip: $RAREDIS_DIR, else ../shared/raredis, else
    assets/raredis (filled by `spacy project run fetch`)."""
    candidates = [Path(os.environ["RAREDIS_DIR"])] if os.environ.get("RAREDIS_DIR") else [
        ROOT.parent / "shared" / "raredis", ROOT / "assets" / "raredis"]
    for path in candidates:
        if (path / "train.zip").exists():
            return path
    pytest.fail(f"RareDis files not found in {[str(p) for p in candidates]}: set RAREDIS_DIR to a folder with "
                "train.zip and dev.zip, or run `spacy project run fetch`")


@pytest.fixture(scope="session")
def converted_corpus(raredis_dir, tmp_path_factory):
    """The whole shared corpus converted once per test session."""
    from raredis_llm.corpus.convert import convert_corpus
    from raredis_llm.corpus.sources import fetch

    assets = fetch(tmp_path_factory.mktemp("assets"), source=raredis_dir, log=lambda *_: None)
    out = tmp_path_factory.mktemp("corpus")
    report = convert_corpus(assets, out, progress=False)
    return out, report


#: split -> (zip, index range into that zip's sorted document names)
TINY_PLAN = {"train": ("train.zip", 0, 4), "validation": ("train.zip", 4, 6), "test": ("dev.zip", 0, 2)}


def _extract(zip_path: Path, start: int, stop: int, dest: Path) -> List[Path]:
    with zipfile.ZipFile(zip_path) as zf:
        anns = sorted(n for n in zf.namelist() if n.endswith(".ann"))[start:stop]
        for ann in anns:
            zf.extract(ann, dest)
            zf.extract(ann[: -len(".ann")] + ".txt", dest)
    return [dest / ann for ann in anns]


@pytest.fixture(scope="session")
def tiny_corpus(raredis_dir, tmp_path_factory) -> Path:
    """4 train, 2 validation, 2 test documents of RareDis as sentence- and doc-level DocBins."""
    from raredis_llm.corpus.convert import convert_files

    raw = tmp_path_factory.mktemp("tiny_raw")
    out = tmp_path_factory.mktemp("tiny_corpus")
    (out / "docs").mkdir()
    for split, (zip_name, start, stop) in TINY_PLAN.items():
        files = _extract(raredis_dir / zip_name, start, stop, raw / split)
        docs, sents, _ = convert_files(files)
        DocBin(docs=docs, store_user_data=True).to_disk(out / "docs" / f"{split}.spacy")
        DocBin(docs=sents, store_user_data=True).to_disk(out / f"{split}.spacy")
    return out
