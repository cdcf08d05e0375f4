"""Tiny real corpora for the baseline tests: a few RareDis documents, converted by the
project's converter, in the converter's layout ({split}.spacy + docs/{split}.spacy)."""

import zipfile
from pathlib import Path
from typing import Dict, List

import pytest
from spacy.tokens import DocBin

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


@pytest.fixture(scope="session")
def train_overrides(tiny_corpus) -> Dict[str, str]:
    return {"paths.train": str(tiny_corpus / "train.spacy"), "paths.dev": str(tiny_corpus / "validation.spacy")}
