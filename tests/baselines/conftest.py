"""Config overrides that train the baselines on the tiny real corpus (tests/conftest.py)."""

from typing import Dict

import pytest

@pytest.fixture(scope="session")
def train_overrides(tiny_corpus) -> Dict[str, str]:
    return {"paths.train": str(tiny_corpus / "train.spacy"), "paths.dev": str(tiny_corpus / "validation.spacy")}
