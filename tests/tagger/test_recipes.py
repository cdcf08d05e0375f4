"""Tagger recipes: the file is checked, each recipe is trained and scored on validation,
a finished recipe is read back, a changed one starts over."""

import json
from pathlib import Path

import pytest
import srsly

from raredis_llm.tagger.recipes import read_recipes, recipe_overrides, recipes_table, run_recipes

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "tagger_cpu.cfg"
TINY_STEPS = {"model.num_layers": 2, "model.lora_from": 1, "model.bidirectional_from": 0, "lora.r": 4, "lora.alpha": 8,
        "training.batch_tokens": 160, "training.learning_rate": 0.005, "training.head_learning_rate": 0.03,
        "training.warmup_steps": 1, "training.eval_every": 2, "training.checkpoint_every": 0}


def test_the_shipped_recipes_file_reads():
    spec = read_recipes(CONFIG.parent / "tagger_recipes.yml")
    assert "default" in spec["recipes"] and spec["recipes"]["default"] == {}
    assert Path(spec["config"]).name == "tagger_cpu.cfg"


@pytest.mark.parametrize("text, message", [
    ("config: x\n", "needs a mapping"),
    ("recipes:\n  a: 3\n", "must map overrides"),
    ("recipes:\n  a: {context: none}\n", "section.key"),
])
def test_bad_recipes_files_are_named(tmp_path, text, message):
    path = tmp_path / "r.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_recipes(path)


def test_a_recipe_sets_its_own_values_over_the_shared_ones():
    out = recipe_overrides({"training.max_steps": 9, "model.context": "first_sentence"}, 500, 1, {"output": "o"})
    assert out == {"training.max_steps": 9, "training.seed": 1, "paths.output": "o", "model.context": "first_sentence"}


def test_the_table_has_a_row_per_recipe():
    row = {"recipe": "a", "f_5type": 0.5, "f_4type": 0.55, "RAREDISEASE": 0.7, "SKINRAREDISEASE": None,
           "DISEASE": 0.4, "SIGN": 0.5, "SYMPTOM": 0.1, "best_step": 250, "steps": 500, "train_min": 9.1, "step_s": 1.0}
    table = recipes_table([row])
    assert "| a | 50.0 | 55.0 | 70.0 | - | 40.0 | 50.0 | 10.0 | 250 of 500 | 9.1 | 1.0 |" in table


def test_recipes_train_score_and_resume(tiny_corpus, tiny_decoder, tmp_path):
    TINY = {**TINY_STEPS, "model.base_model": str(tiny_decoder)}
    recipes = tmp_path / "recipes.yml"
    srsly.write_yaml(recipes, {"config": str(CONFIG), "steps": 2,
                               "recipes": {"plain": dict(TINY), "context": {**TINY, "model.context": "first_sentence"}}})
    out = tmp_path / "out"
    kw = dict(train=tiny_corpus / "train.spacy", validation=tiny_corpus / "validation.spacy", log=lambda *_: None)
    rows = run_recipes(recipes, out, **kw)
    assert [r["recipe"] for r in rows] == ["plain", "context"]
    assert all(r["steps"] == 2 and r["n_docs"] == 3 and 0 <= r["f_5type"] <= 1 for r in rows)
    assert json.loads((out / "recipes.json").read_text()) == rows
    assert (out / "recipes.md").read_text().count("\n") == 4
    # finished recipes are read back, not trained again
    logged = []
    assert run_recipes(recipes, out, **dict(kw, log=logged.append)) == rows
    assert logged == [f"plain: done before ({out / 'plain' / 'recipe.json'})",
                      f"context: done before ({out / 'context' / 'recipe.json'})"]
    # a changed recipe starts over
    srsly.write_yaml(recipes, {"config": str(CONFIG), "steps": 3, "recipes": {"plain": dict(TINY)}})
    logged = []
    again = run_recipes(recipes, out, **dict(kw, log=logged.append))
    assert again[0]["steps"] == 3 and any("starting over" in line for line in logged)
    with pytest.raises(ValueError, match="no recipes"):
        run_recipes(recipes, out, only=["missing"], **kw)
