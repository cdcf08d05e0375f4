"""Score a spaCy pipeline (path or package name) on a DocBin; write metrics/<system>.json.

    python scripts/evaluate.py MODEL corpus/test.spacy --system NAME --output metrics/NAME.json
        [--n-docs N] [--seed 0] [--batch-size 32] [--input text|tokens]
        [--price-prompt-1k 0] [--price-completion-1k 0] [--code file.py] [--gpu-id -1]
        [--gold-projections first_fragment,contiguous]

Also writes metrics/<NAME>.errors.jsonl (sentences with errors, for the report).
"""

from pathlib import Path
from typing import Optional

import spacy
import typer
from wasabi import msg

from raredis_llm.scoring.evaluate import evaluate, load_gold_docs, select_docs
from raredis_llm.scoring.speed import Stopwatch


def main(
    model: str = typer.Argument(..., help="Pipeline folder or installed package name"),
    data_path: Path = typer.Argument(..., help="Gold DocBin (.spacy)", exists=True, dir_okay=False),
    system: str = typer.Option(..., "--system", "-s", help="System name used in the report"),
    output: Path = typer.Option(..., "--output", "-o", help="Metrics JSON to write"),
    n_docs: Optional[int] = typer.Option(None, "--n-docs", "-n", help="Score a random sample of N Docs"),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample and of the error samples"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="nlp.pipe batch size"),
    input_mode: str = typer.Option("text", "--input", help="'text': run on the texts; 'tokens': on Docs with the gold tokens and Doc ids; 'text_meta': the pipeline's tokens with the Doc ids and context"),
    price_prompt_1k: float = typer.Option(0.0, "--price-prompt-1k", help="Price per 1k prompt tokens (cost estimate)"),
    price_completion_1k: float = typer.Option(0.0, "--price-completion-1k", help="Price per 1k completion tokens"),
    max_samples: int = typer.Option(20, "--max-samples", help="Error samples kept per class and view"),
    code: Optional[Path] = typer.Option(None, "--code", "-c", help="Python file to import first (registered functions)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU"),
    errors_output: Optional[Path] = typer.Option(None, "--errors-output", help="Default: <output stem>.errors.jsonl"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar"),
    gold_projections: str = typer.Option("", "--gold-projections",
                                         help="Comma-separated gold projections: the first is the main score "
                                              "(default: doc.ents as converted), the others are added"),
):
    if code is not None:
        spacy.util.import_file("code", code)
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    with Stopwatch() as load:
        nlp = spacy.load(model)
    all_docs = load_gold_docs(data_path, nlp)
    docs = select_docs(all_docs, n_docs, seed)
    msg.info(f"{system}: {model} ({', '.join(nlp.pipe_names)}) on {len(docs)} of {len(all_docs)} Docs of {data_path}")
    metrics = evaluate(
        nlp, docs, system=system, model=model, corpus=str(data_path), batch_size=batch_size,
        input_mode=input_mode, max_samples=max_samples, seed=seed, price_prompt_1k=price_prompt_1k,
        price_completion_1k=price_completion_1k, n_docs_total=len(all_docs), load_s=load.seconds,
        output=output, errors_output=errors_output, progress=progress,
        gold_projections=[p.strip() for p in gold_projections.split(",") if p.strip()],
    )
    rows = []
    by_gold = {metrics["gold_projection"]: metrics, **metrics["gold_projections"]}
    for gold, scores in by_gold.items():
        for view, res in scores["views"].items():
            s = res["seqeval"]
            rows.append([gold, view, f"{100 * s['micro']['f']:.1f}", f"{100 * s['macro']['f']:.1f}",
                         "-" if res["spacy"]["ents_f"] is None else f"{100 * res['spacy']['ents_f']:.1f}"])
    msg.table(rows, header=["gold", "view", "seqeval micro F1", "seqeval macro F1", "spaCy ents_f"], divider=True)
    sp = metrics["speed"]
    msg.text(f"{sp['words_per_s']} words/s, {sp['docs_per_s']} docs/s, {sp['wall_s']} s, peak RSS {sp['peak_rss_mb']} MB")
    msg.good(f"Wrote {output} and {metrics['errors_file']}")


if __name__ == "__main__":
    typer.run(main)
