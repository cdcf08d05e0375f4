"""Tagger recipes compared on the validation split: one config, named sets of overrides.

A recipes file (``configs/tagger_recipes.yml``) names the base config, the steps every
recipe trains for and, per recipe, the overrides that make it (``model.context:
first_sentence``, ``training.oversample: {SKINRAREDISEASE: 3}``, ...). Each recipe is
trained into ``<output>/<name>/`` (resumable: a finished recipe whose settings have not
changed is not trained again), its ``model-best`` is scored by the harness on the whole
validation split (every sentence with its document's context), and one row per recipe
goes to ``<output>/recipes.json`` and a Markdown table ``<output>/recipes.md``: micro F1
in both views, F1 per type, the best step, training minutes and seconds a step. The test
split is never read.
"""

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

import srsly

from ..labels import LABELS
from ..util import write_json, write_text

PathLike = Union[str, Path]


def read_recipes(path: PathLike) -> Dict[str, Any]:
    """The recipes file, checked: ``config``, ``steps`` and a mapping ``recipes``."""
    data = srsly.read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("recipes"), dict) or not data["recipes"]:
        raise ValueError(f"{path}: a recipes file needs a mapping 'recipes: {{name: {{override: value}}}}'")
    for name, overrides in data["recipes"].items():
        if not isinstance(overrides, dict):
            raise ValueError(f"{path}: recipe {name!r} must map overrides to values, not {overrides!r}")
        bad = [k for k in overrides if "." not in k]
        if bad:
            raise ValueError(f"{path}: recipe {name!r}: overrides are section.key, not {bad}")
    return data


def recipe_overrides(recipe: Dict[str, Any], steps: int, seed: int, paths: Dict[str, str]) -> Dict[str, Any]:
    """A recipe's overrides with the shared steps, seed and paths (a recipe may set its own)."""
    out = {"training.max_steps": steps, "training.seed": seed,
           **{f"paths.{k}": v for k, v in paths.items()}}
    out.update(recipe)
    return out


def _scores(metrics: Dict[str, Any]) -> Dict[str, Optional[float]]:
    row: Dict[str, Optional[float]] = {}
    for view in ("5type", "4type"):
        seq = metrics["views"][view]["seqeval"]
        row[f"f_{view}"] = seq["micro"]["f"]
        if view == "5type":
            for label in LABELS:
                row[label] = seq.get("per_type", {}).get(label, {}).get("f")
    return row


def run_recipes(
    recipes_path: PathLike,
    output: PathLike,
    train: PathLike,
    validation: PathLike,
    only: Optional[List[str]] = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
    progress: bool = False,
) -> List[Dict[str, Any]]:
    """Train and score every recipe (or those named in ``only``); see the module docstring."""
    import spacy

    from ..scoring.evaluate import evaluate, load_gold_docs
    from .settings import load_setup
    from .trainer import TaggerTrainer

    spec = read_recipes(recipes_path)
    base = Path(spec.get("config", "configs/tagger_cpu.cfg"))
    steps = int(spec.get("steps", 500))
    names = list(spec["recipes"]) if not only else only
    unknown = [n for n in names if n not in spec["recipes"]]
    if unknown:
        raise ValueError(f"{recipes_path}: no recipes {unknown} (recipes: {list(spec['recipes'])})")
    out = Path(output)
    rows: List[Dict[str, Any]] = []
    for name in names:
        folder = out / name
        overrides = recipe_overrides(spec["recipes"][name], steps, seed,
                                     {"train": str(train), "validation": str(validation), "output": str(folder)})
        done = folder / "recipe.json"
        if done.exists() and json.loads(done.read_text())["overrides"] == overrides:
            log(f"{name}: done before ({done})")
            rows.append(json.loads(done.read_text()))
            continue
        started = folder / "overrides.json"
        if folder.exists() and (not started.exists() or json.loads(started.read_text()) != overrides):
            log(f"{name}: the recipe changed since {folder} was trained: starting over")
            shutil.rmtree(folder)
        write_json(overrides, started)
        log(f"{name}: {spec['recipes'][name] or 'the config as it is'}")
        setup = load_setup(base, overrides)
        meta = TaggerTrainer(setup, log=log, progress=progress).train(resume=True)
        nlp = spacy.load(folder / "model-best")
        gold = load_gold_docs(validation, nlp)
        metrics = evaluate(nlp, gold, system=f"tagger_{name}@validation", model=str(folder / "model-best"),
                           corpus=str(validation), input_mode="text_meta")
        row = {"recipe": name, "overrides": overrides, "steps": meta["steps"], "best_step": meta["best_step"],
               "train_min": round(meta["elapsed_s"] / 60, 1), "step_s": meta["mean_step_s"],
               "stop_reason": meta["stop_reason"], "words_per_s": metrics["speed"]["words_per_s"],
               "n_docs": len(gold), **_scores(metrics)}
        write_json(row, done)
        row = json.loads(done.read_text())  # as stored (JSON rounds floats): a later run reads the same
        rows.append(row)
        log(f"{name}: validation micro F1 {row['f_5type']:.4f} / {row['f_4type']:.4f} (5 / 4 types)")
        del nlp
    write_json(rows, out / "recipes.json")
    write_text(recipes_table(rows), out / "recipes.md")
    return rows


def recipes_table(rows: List[Dict[str, Any]]) -> str:
    """The Markdown table of :func:`run_recipes`' rows (F1 in %)."""
    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}"

    head = ["recipe", "micro F1 5 types", "micro F1 4 types", *LABELS, "best step", "train min", "s/step"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["recipe"], pct(r["f_5type"]), pct(r["f_4type"]), *(pct(r.get(l)) for l in LABELS),
                 f"{r['best_step']} of {r['steps']}", f"{r['train_min']}", f"{r['step_s']}"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
