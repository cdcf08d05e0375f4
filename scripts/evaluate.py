"""Score a spaCy pipeline (path or package name), or predictions made elsewhere, on a
DocBin; write metrics/<system>.json.

    python scripts/evaluate.py MODEL corpus/test.spacy --system NAME --output metrics/NAME.json
        [--n-docs N] [--seed 0] [--batch-size 32] [--input text|tokens]
        [--price-prompt-1k 0] [--price-completion-1k 0] [--code file.py] [--gpu-id -1]

MODEL may also be a folder of BRAT ``.ann`` files or a token/tag ``.csv``/``.tsv``
(columns doc_id, token, tag[, start]) from any other system: it is scored by the same
harness (raredis_llm/scoring/outside.py), on the same seeded sample with --n-docs.
Also writes metrics/<NAME>.errors.jsonl (sentences with errors, for the report).
"""

from pathlib import Path
from typing import Optional

import spacy
import typer
from wasabi import msg

from raredis_llm.scoring.bootstrap import intervals
from raredis_llm.scoring.evaluate import evaluate, load_gold_docs, sample_docs
from raredis_llm.scoring.outside import evaluate_predictions, predictions_kind
from raredis_llm.scoring.speed import Stopwatch
from raredis_llm.scoring.units import Units


def main(
    model: str = typer.Argument(..., help="Pipeline folder or installed package name; or a BRAT folder / token-tag CSV of predictions"),
    data_path: Path = typer.Argument(..., help="Gold DocBin (.spacy)", exists=True, dir_okay=False),
    system: str = typer.Option(..., "--system", "-s", help="System name used in the report"),
    output: Path = typer.Option(..., "--output", "-o", help="Metrics JSON to write"),
    n_docs: Optional[int] = typer.Option(None, "--n-docs", "-n", help="Score a random sample of N Docs"),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample and of the error samples"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="nlp.pipe batch size"),
    input_mode: str = typer.Option("text", "--input", help="'text': run on the texts; 'tokens': on Docs with the gold tokens and Doc ids"),
    price_prompt_1k: float = typer.Option(0.0, "--price-prompt-1k", help="Price per 1k prompt tokens (cost estimate)"),
    price_completion_1k: float = typer.Option(0.0, "--price-completion-1k", help="Price per 1k completion tokens"),
    max_samples: int = typer.Option(20, "--max-samples", help="Error samples kept per class and view"),
    code: Optional[Path] = typer.Option(None, "--code", "-c", help="Python file to import first (registered functions)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU"),
    errors_output: Optional[Path] = typer.Option(None, "--errors-output", help="Default: <output stem>.errors.jsonl"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar"),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Outside predictions: score documents without predictions as empty"),
    bootstrap_n: int = typer.Option(1000, "--bootstrap-n", help="Bootstrap resamples for the printed intervals"),
):
    if code is not None:
        spacy.util.import_file("code", code)
    if predictions_kind(model) is not None:
        nlp = spacy.blank("en")
        all_docs = load_gold_docs(data_path, nlp)
        msg.info(f"{system}: predictions {model} ({predictions_kind(model)}) on "
                 f"{len(sample_docs(all_docs, n_docs, seed)[0])} of {len(all_docs)} Docs of {data_path}")
        metrics = evaluate_predictions(model, all_docs, nlp, system, n_docs=n_docs, seed=seed, corpus=str(data_path),
                                       allow_missing=allow_missing, max_samples=max_samples, output=output,
                                       errors_output=errors_output)
        msg.text(f"read: {metrics['outside']}")
    else:
        if gpu_id >= 0:
            spacy.require_gpu(gpu_id)
        with Stopwatch() as load:
            nlp = spacy.load(model)
        all_docs = load_gold_docs(data_path, nlp)
        indices, docs = sample_docs(all_docs, n_docs, seed)
        msg.info(f"{system}: {model} ({', '.join(nlp.pipe_names)}) on {len(docs)} of {len(all_docs)} Docs of {data_path}")
        metrics = evaluate(
            nlp, docs, system=system, model=model, corpus=str(data_path), batch_size=batch_size,
            input_mode=input_mode, max_samples=max_samples, seed=seed, price_prompt_1k=price_prompt_1k,
            price_completion_1k=price_completion_1k, indices=indices, n_docs_total=len(all_docs),
            load_s=load.seconds, output=output, errors_output=errors_output, progress=progress,
        )
        sp = metrics["speed"]
        msg.text(f"{sp['words_per_s']} words/s, {sp['docs_per_s']} docs/s, {sp['wall_s']} s, peak RSS {sp['peak_rss_mb']} MB")
    units = Units.from_metrics(metrics)
    rows = []
    for metric in ("strict", "default", "doc"):
        for view in metrics["views"]:
            unit_keys, types, counts = units.unit_counts(metric, view)
            iv = intervals(counts, types, n_boot=bootstrap_n, seed=seed)
            rows.append([metric, view, len(unit_keys), _ci(iv.micro, iv.micro_ci), _ci(iv.macro, iv.macro_ci)])
    msg.table(rows, header=["metric", "view", "units", "micro F1 (95% CI)", "macro F1 (95% CI)"], divider=True)
    msg.good(f"Wrote {output} and {metrics['errors_file']}")


def _ci(f, ci) -> str:
    return f"{100 * f:.1f}" + (f" ({100 * ci[0]:.1f}-{100 * ci[1]:.1f})" if ci else "")


if __name__ == "__main__":
    typer.run(main)
