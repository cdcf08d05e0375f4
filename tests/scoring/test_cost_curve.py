"""The cost curve on the real offline Gemma 3 270M (in-process backend) and MiniLM, on the
sentences of tests/scoring/conftest.py: a few points, two test sentences."""

import json
from pathlib import Path

import pytest
from spacy.tokens import DocBin

from tests.scoring.conftest import make_gold_docs
from tests.scoring.script_runner import run_script
from raredis_llm.scoring.cost_curve import point_config_text, run_cost_curve

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_corpus")
    docs = make_gold_docs()
    DocBin(docs=docs, store_user_data=True).to_disk(out / "train.spacy")
    DocBin(docs=docs, store_user_data=True).to_disk(out / "test.spacy")
    return out, docs


def overrides(corpus: Path) -> dict:
    return {"paths.train": str(corpus / "train.spacy"), "paths.dev": str(corpus / "train.spacy"),
            "components.llm.model.max_new_tokens": 8, "components.llm.model.dtype": "float32",
            "components.llm.model.cache_dir": str(corpus / "llm_cache")}


def test_point_configs():
    assert "raredis.RandomExamples.v1" in point_config_text(CONFIGS, "random", 4)
    assert "raredis.KNNExamples.v1" in point_config_text(CONFIGS, "knn", 1)
    zero = point_config_text(CONFIGS, "knn", 0)
    assert "[components.llm.task.examples]" not in zero
    assert "raredis.OpenAIChat.v1" in point_config_text(CONFIGS, "random", 2, backend="openai")
    with pytest.raises(ValueError, match="cluster"):
        point_config_text(CONFIGS, "cluster", 2)


@pytest.mark.slow
def test_cost_curve_grows_with_k_on_one_sample(tiny_corpus, tmp_path):
    corpus, docs = tiny_corpus
    out = tmp_path / "curve"
    curve = run_cost_curve(CONFIGS, docs, out, ks=[0, 3], n_docs=2, seed=1, overrides=overrides(corpus),
                           price_prompt_1k=0.5, price_completion_1k=2.0, n_boot=100, progress=False)
    points = {(p["selector"], p["k"]): p for p in curve["points"]}
    assert set(points) == {("zeroshot", 0), ("random", 3), ("knn", 3)}
    for sel in ("random", "knn"):
        zero, three = points[("zeroshot", 0)], points[(sel, 3)]
        assert zero["prompt_tokens_per_sentence"] + 30 < three["prompt_tokens_per_sentence"], sel
    for p in curve["points"]:
        assert p["sentences"] == 2 and 0.0 <= p["micro_f"] <= 1.0
        expected = p["prompt_tokens_per_sentence"] * 0.5 + p["completion_tokens_per_sentence"] * 2.0
        assert p["cost_per_1k_sentences"] == pytest.approx(expected, abs=0.2)
        metrics = json.loads((out / p["metrics_file"]).read_text())
        assert metrics["units"]["keys"] == json.loads((out / "cost_zeroshot_k0.json").read_text())["units"]["keys"]
        assert metrics["cost_curve"]["k"] == p["k"]
    for name in ("cost_curve.png", "cost_curve_price.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert json.loads((out / "cost_curve.json").read_text())["points"] == curve["points"]
    # a rerun finds every point scored: nothing is assembled or run again
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("cost_*_k*.json")}
    again = run_cost_curve(CONFIGS, docs, out, ks=[0, 3], n_docs=2, seed=1, overrides=overrides(corpus),
                           price_prompt_1k=0.5, price_completion_1k=2.0, n_boot=100, progress=False)
    assert again["points"] == curve["points"]
    assert stamps == {p.name: p.stat().st_mtime_ns for p in out.glob("cost_*_k*.json")}


@pytest.mark.slow
def test_cost_curve_cli(tiny_corpus, tmp_path):
    corpus, _ = tiny_corpus
    out = tmp_path / "cli"
    args = ["--configs", CONFIGS, "--test", corpus / "test.spacy", "--output", out, "--ks", "0,1",
            "--selectors", "random", "--n-docs", "1", "--bootstrap-n", "50"]
    for key, value in overrides(corpus).items():
        args += [f"--{key}", value]
    result = run_script("cost_curve.py", args)
    assert result.exit_code == 0, result.output
    assert "| zeroshot | 0 |" in result.output and "| random | 1 |" in result.output
    assert (out / "cost_curve.png").exists() and not (out / "cost_curve_price.png").exists()
    bad = run_script("cost_curve.py", ["--configs", CONFIGS, "--test", corpus / "test.spacy", "--selectors", "bm25"])
    assert bad.exit_code != 0 and "bm25" in bad.output
