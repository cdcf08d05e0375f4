"""Shared test set-up: never reach a model hub; find the RareDis files."""

import os
from pathlib import Path

import pytest

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
