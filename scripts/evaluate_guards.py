"""Measure the guards on validation: F1 on clean and noised text, crossing entities, the
odd-input table, negation cues and NegEx agreement; write JSON and print Markdown.

    python scripts/evaluate_guards.py --cnn training/cnn/model-best \
        [--pipeline cnn-noisy=training/cnn_noisy/model-best] [--pipeline trf=training/trf/model-best] \
        --validation corpus/validation.spacy --train corpus/train.spacy --output metrics/guards.json

Each pipeline is measured as it is (its own guard components taken out) and with the guards;
the CNN also with leading negation cues trimmed.
"""

import json
from pathlib import Path
from typing import List

import spacy
import typer
from spacy.tokens import DocBin

import raredis_llm.baselines  # noqa: F401  (raredis.TransformerModel.v1)
from raredis_llm.guard import add_guards
from raredis_llm.guard.evaluation import (cue_counts, markdown, negation_agreement, negation_probe,
                                          odd_input_rows, probe_entities, robustness_table)
from raredis_llm.guard.entity_guard import negation_cues
from raredis_llm.guard.pipeline import BOUNDARIES, GUARD
from raredis_llm.util import named_path, write_json


def variants(name: str, path: Path, trim: bool = False) -> dict:
    raw = spacy.load(path)
    for pipe in (BOUNDARIES, GUARD):
        if pipe in raw.pipe_names:
            raw.remove_pipe(pipe)
    guarded = spacy.load(path)
    add_guards(guarded)
    out = {f"{name}": raw, f"{name}+guards": guarded}
    if trim:
        trimmed = spacy.load(path)
        add_guards(trimmed, trim_cues=True)
        out[f"{name}+guards+trim-cues"] = trimmed
    return out


def main(
    cnn: Path = typer.Option(..., help="Trained CNN pipeline"),
    pipeline: List[str] = typer.Option([], help="NAME=PATH of another pipeline (repeatable)"),
    validation: Path = typer.Option(Path("corpus/validation.spacy"), exists=True),
    train: Path = typer.Option(Path("corpus/train.spacy"), exists=True),
    n_docs: int = typer.Option(0, help="Validation sentences used (0 = all)"),
    seed: int = typer.Option(0),
    output: Path = typer.Option(Path("metrics/guards.json")),
):
    pipes = variants("cnn", cnn, trim=True)
    for spec in pipeline:
        name, path = named_path(spec, "pipeline")
        pipes.update(variants(name, Path(path)))
    vocab = next(iter(pipes.values())).vocab
    gold = list(DocBin().from_disk(validation).get_docs(vocab))
    if n_docs:
        gold = gold[:n_docs]
    result = {"validation": str(validation), "n_docs": len(gold), "seed": seed}
    result["robustness"] = robustness_table(pipes, gold, seed=seed)
    result["odd_inputs"] = odd_input_rows(pipes)
    from negspacy.termsets import termset

    negex_cues = [tuple(c.lower().split()) for c in termset("en_clinical").get_patterns()["preceding_negations"]]
    train_docs = list(DocBin().from_disk(train).get_docs(vocab))
    result["cues"] = {
        "gold_train_negex_list": cue_counts(train_docs, negex_cues),
        "gold_validation_negex_list": cue_counts(gold, negex_cues),
        "gold_train_trim_list": cue_counts(train_docs, negation_cues()),
        "gold_validation_trim_list": cue_counts(gold, negation_cues()),
        "cnn_validation_trim_list": cue_counts(pipes["cnn"].pipe(d.text for d in gold), negation_cues()),
    }
    result["negex"] = {name: negation_agreement(pipes[name], gold) for name in ("cnn", "cnn+guards")}
    probe = probe_entities(gold)
    result["negation_probe"] = {name: negation_probe(nlp, probe) for name, nlp in pipes.items()
                                if not name.endswith("trim-cues")}
    write_json(result, output)
    print(markdown(result))
    print(json.dumps({"cues": {k: {x: v[x] for x in ("entities", "leading", "inside")} for k, v in result["cues"].items()},
                      "negex": result["negex"], "negation_probe": result["negation_probe"]}, indent=2))


if __name__ == "__main__":
    typer.run(main)
