"""Shared test set-up: never reach a model hub; find the RareDis files; tiny real corpora
(a few RareDis documents, converted by the project's converter, in the converter's layout
{split}.spacy + docs/{split}.spacy) and tiny CNN / transformer pipelines trained on them."""

import os
import zipfile
from pathlib import Path
from typing import Dict, List

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


def _train_tiny(config: str, corpus: Path, output: Path, overrides: Dict[str, object]) -> Path:
    from spacy.cli.train import train

    import raredis_llm.baselines  # noqa: F401  (raredis.TransformerModel.v1)

    train(ROOT / "configs" / config, output, overrides={
        "paths.train": str(corpus / "train.spacy"), "paths.dev": str(corpus / "validation.spacy"), **overrides})
    return output / "model-last"


@pytest.fixture(scope="session")
def tiny_cnn(tiny_corpus, tmp_path_factory) -> Path:
    """configs/cnn.cfg trained 60 steps on the tiny corpus (it tags entities on RareDis-like text)."""
    return _train_tiny("cnn.cfg", tiny_corpus, tmp_path_factory.mktemp("tiny_cnn"),
                       {"training.max_steps": 60, "training.eval_frequency": 60})


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    """A tiny random BERT with MiniLM's tokenizer (tests/tiny_encoder.py)."""
    from tests.tiny_encoder import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))


@pytest.fixture(scope="session")
def tiny_trf(tiny_corpus, tiny_encoder, tmp_path_factory) -> Path:
    """configs/trf.cfg on the tiny encoder (MiniLM's tokenizer) trained 12 steps on part of
    the tiny corpus."""
    return _train_tiny("trf.cfg", tiny_corpus, tmp_path_factory.mktemp("tiny_trf"),
                       {"components.transformer.model.name": str(tiny_encoder), "training.max_steps": 12, "training.eval_frequency": 12, "corpora.train.limit": 48,
                        "corpora.dev.limit": 8, "training.optimizer.learn_rate.initial_rate": 5e-4,
                        "training.optimizer.learn_rate.warmup_steps": 2})


@pytest.fixture(scope="session")
def tiny_decoder(tmp_path_factory) -> Path:
    """A tiny random Gemma 3 (18 layers, width 64) with the real tokenizer: a model folder
    for tests where the real weights add nothing (tests/tiny_decoder.py)."""
    from tests.tiny_decoder import build_tiny_decoder

    return build_tiny_decoder(tmp_path_factory.mktemp("tiny_decoder"))


@pytest.fixture(scope="session")
def gemma_tokenizer():
    """The real Gemma 3 tokenizer alone (what the offline model and the tiny decoder use)."""
    from transformers import AutoTokenizer

    from raredis_llm.models.offline import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model("offline:gemma-3-270m", log=lambda *_: None))
