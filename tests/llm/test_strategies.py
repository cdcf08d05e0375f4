"""Prompting strategies on each backend: one config file per strategy, the backend's model
section swapped in at run time."""

from pathlib import Path

import pytest
import spacy

from raredis_llm.llm.strategies import EXTRA_STRATEGIES, KB_STRATEGIES, STRATEGIES, available, strategy_config, takes_setting

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_every_paper_strategy_has_a_config():
    assert list(available(CONFIGS, knowledge=True, extra=True))[: len(STRATEGIES)] == list(STRATEGIES)


def test_knowledge_base_and_extra_strategies_run_only_on_request():
    """'all' leaves out the strategies that need the knowledge base's index (minutes to build)
    and the extra ones (the longest prompts, spacy-llm's own task)."""
    assert set(KB_STRATEGIES) <= set(STRATEGIES) and set(EXTRA_STRATEGIES) <= set(STRATEGIES)
    assert available(CONFIGS) == [s for s in STRATEGIES if s not in KB_STRATEGIES + EXTRA_STRATEGIES]
    assert available(CONFIGS, knowledge=True)[-len(KB_STRATEGIES):] == list(KB_STRATEGIES)
    assert set(available(CONFIGS, extra=True)) - set(available(CONFIGS)) == set(EXTRA_STRATEGIES)


@pytest.mark.parametrize("backend,factory", [("hf", "raredis.HFCausalLM.v1"), ("openai", "raredis.OpenAIChat.v1"),
                                             ("llamacpp", "raredis.LlamaCpp.v1")])
@pytest.mark.parametrize("strategy", ["fewshot_knn", "rag_kb_knn"])
def test_only_the_model_section_changes(backend, factory, strategy):
    hf = strategy_config(CONFIGS, strategy)
    other = strategy_config(CONFIGS, strategy, backend, model={"cache_dir": None})
    assert other["components"]["llm"]["model"]["@llm_models"] == factory
    assert other["components"]["llm"]["model"]["stop"] == hf["components"]["llm"]["model"]["stop"]
    assert other["components"]["llm"]["model"]["cache_dir"] is None
    a, b = dict(hf), dict(other)
    a["components"]["llm"].pop("model"), b["components"]["llm"].pop("model")
    assert a == b


def test_grid_flags_reach_the_strategies_that_take_them():
    """project.yml's llm_flags go to every strategy; each takes those its functions accept."""
    cluster, random_ = strategy_config(CONFIGS, "fewshot_cluster"), strategy_config(CONFIGS, "fewshot_random")
    zeroshot = strategy_config(CONFIGS, "zeroshot")
    assert takes_setting(cluster, "components.llm.task.examples.n_clusters")
    assert not takes_setting(random_, "components.llm.task.examples.n_clusters")  # not a parameter of its sampler
    assert not takes_setting(zeroshot, "components.llm.task.examples.n_clusters")  # no examples section
    for config in (cluster, random_, zeroshot):
        assert takes_setting(config, "components.llm.model.dtype")  # not set in the file, taken by the backend
        assert takes_setting(config, "components.llm.model.name")  # set in the file
        assert not takes_setting(config, "components.llm.model.no_such_setting")
    assert takes_setting(strategy_config(CONFIGS, "zeroshot", "openai"), "components.llm.model.max_tokens")


def test_unknown_strategy_or_backend():
    with pytest.raises(FileNotFoundError, match="nosuch"):
        strategy_config(CONFIGS, "nosuch")
    with pytest.raises(ValueError, match="backend"):
        strategy_config(CONFIGS, "zeroshot", "grpc")


@pytest.mark.slow
def test_openai_config_runs_against_llama_server(llama_server, tmp_path):
    """A strategy built for the openai backend assembles, saves, loads and tags through the
    openai SDK against a real llama.cpp server on 127.0.0.1."""
    from raredis_llm.llm.backends import OpenAIChat
    from tests.llm.test_task import SENTENCES, write_corpus

    paths = write_corpus(tmp_path, spacy.blank("en"))
    config = strategy_config(CONFIGS, "fewshot_random", "openai", model={
        "base_url": llama_server, "max_tokens": 16, "cache_dir": str(tmp_path / "cache")})
    config = config.merge({"paths": {"train": str(paths["train"]), "dev": str(paths["train"]),
                                     "train_docs": str(paths["train_docs"])}})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    nlp.to_disk(tmp_path / "pipeline")
    nlp = spacy.load(tmp_path / "pipeline")
    model = nlp.get_pipe("llm")._model
    assert isinstance(model, OpenAIChat) and model.engine.server == llama_server
    doc = nlp(SENTENCES[0][1])
    assert model.stats["requests"] == 1 and model.stats["failures"] == 0
    assert 1 <= model.stats["completion_tokens"] <= 16


@pytest.mark.slow
def test_knowledge_base_strategy_runs_against_llama_server(llama_server, tmp_path):
    """rag_kb on the openai backend: the knowledge-base entries reach the server's prompt
    (the tiny knowledge base of tests/knowledge/data, with its real MiniLM index)."""
    from raredis_llm.knowledge.build import build_knowledge_base
    from tests.knowledge.kb_data import TINY_HPOA, TINY_OBO
    from tests.llm.test_task import SENTENCES, write_corpus

    kb = tmp_path / "kb"
    build_knowledge_base(kb, obo=TINY_OBO, hpoa=TINY_HPOA, log=lambda *_: None)
    paths = write_corpus(tmp_path, spacy.blank("en"))
    config = strategy_config(CONFIGS, "rag_kb", "openai", model={
        "base_url": llama_server, "max_tokens": 16, "cache_dir": str(tmp_path / "cache")})
    config = config.merge({"paths": {"train": str(paths["train"]), "dev": str(paths["train"]),
                                     "train_docs": str(paths["train_docs"]), "kb": str(kb)}})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    prompt = list(nlp.get_pipe("llm").task.generate_prompts([nlp.make_doc(SENTENCES[0][1])]))[0][0][0]
    assert "[1] Fabry disease - rare disease (Orphanet)" in prompt
    nlp(SENTENCES[0][1])
    model = nlp.get_pipe("llm")._model
    assert model.stats["requests"] == 1 and model.stats["failures"] == 0
    assert 1 <= model.stats["completion_tokens"] <= 16
