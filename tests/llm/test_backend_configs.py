"""configs/openai/: every prompting strategy on the OpenAI-compatible backend.

The files are generated from configs/llm_*.cfg (llm/backend_configs.py); here they must
be up to date, and each must assemble and tag through the openai SDK against a real
llama.cpp server on 127.0.0.1.
"""

from pathlib import Path

import pytest
import spacy
from test_task import SENTENCES, write_corpus

from raredis_llm.corpus import schema
from raredis_llm.llm.backend_configs import MODEL_SECTION, generate, with_backend
from raredis_llm.llm.backends import OpenAIChat

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
OPENAI_CONFIGS = sorted((CONFIGS / "openai").glob("llm_*.cfg"))


def test_generated_configs_are_up_to_date():
    expected = generate(CONFIGS)
    assert sorted(expected) == OPENAI_CONFIGS
    assert len(OPENAI_CONFIGS) == 9  # 8 raredis.NER.v1 strategies + the spacy.NER.v3 baseline
    for path, text in expected.items():
        assert path.read_text(encoding="utf8") == text, f"{path} is stale: run scripts/make_backend_configs.py"


def test_only_the_model_section_changes():
    source = (CONFIGS / "llm_fewshot_knn.cfg").read_text(encoding="utf8")
    out = with_backend(source, "llm_fewshot_knn.cfg")
    a = spacy.util.load_config_from_str(source, interpolate=False)
    b = spacy.util.load_config_from_str(out, interpolate=False)
    assert b["components"]["llm"]["model"]["@llm_models"] == "raredis.OpenAIChat.v1"
    del a["components"]["llm"]["model"], b["components"]["llm"]["model"]
    assert a == b
    with pytest.raises(ValueError, match="no \\[components.llm.model\\]"):
        with_backend("[nlp]\nlang = \"en\"\n", "x.cfg")
    assert MODEL_SECTION in out


@pytest.fixture(scope="module")
def tiny_kb(tmp_path_factory):
    """The knowledge base of tests/knowledge/data (hand-made HPO excerpts), with its index."""
    from raredis_llm.knowledge.build import build_knowledge_base

    data = ROOT / "tests" / "knowledge" / "data"
    path = tmp_path_factory.mktemp("kb") / "kb"
    build_knowledge_base(path, obo=data / "tiny_hp.obo", hpoa=data / "tiny_phenotype.hpoa", log=lambda *_: None)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("path", OPENAI_CONFIGS, ids=lambda p: p.stem)
def test_openai_config_runs_against_llama_server(path, llama_server, tiny_kb, tmp_path):
    paths = write_corpus(tmp_path, spacy.blank("en"))
    config = spacy.util.load_config(path, overrides={
        "paths.train": str(paths["train"]), "paths.dev": str(paths["train"]),
        "paths.train_docs": str(paths["train_docs"]),
        "components.llm.model.base_url": llama_server, "components.llm.model.max_tokens": 16,
        "components.llm.model.cache_dir": str(tmp_path / "cache"),
        **({"paths.kb": str(tiny_kb)} if "_kb" in path.stem else {})})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    nlp.to_disk(tmp_path / "pipeline")
    nlp = spacy.load(tmp_path / "pipeline")
    model = nlp.get_pipe("llm")._model
    assert isinstance(model, OpenAIChat) and model.server == llama_server
    doc = nlp(SENTENCES[0][1])
    assert model.stats["requests"] == 1 and model.stats["failures"] == 0
    assert model.stats["prompt_tokens"] > 50 and 1 <= model.stats["completion_tokens"] <= 16
    labels = {"RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"}
    assert all(e.label_ in labels for e in doc.ents)
    if "spacy_ner_v3" not in path.stem:
        assert doc.user_data[schema.LLM_USAGE]["requests"] == 1
