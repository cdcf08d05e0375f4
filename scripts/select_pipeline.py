"""Choose the pipeline to package as en_raredis_llm, on the validation split.

    python scripts/select_pipeline.py corpus/validation.spacy metrics/selection.json \
        --candidate cnn=training/cnn/model-best --candidate trf=training/trf/model-best \
        --candidate lora_finetuned=training/raredis_llm_ner [--metrics-dir metrics] [--n-docs 200]

Each candidate NAME's test metrics must be at <metrics-dir>/NAME.json.
"""

from pathlib import Path
from typing import List

import typer
from wasabi import msg

from raredis_llm.selection import parse_candidate, select_best


def main(
    validation: Path = typer.Argument(..., help="Validation DocBin", exists=True, dir_okay=False),
    output: Path = typer.Argument(..., help="Selection JSON to write"),
    candidate: List[str] = typer.Option(..., "--candidate", help="NAME=PIPELINE (repeat)"),
    metrics_dir: Path = typer.Option(Path("metrics"), "--metrics-dir"),
    n_docs: int = typer.Option(200, "--n-docs", help="Validation sentences, a seeded sample (0: all)"),
    seed: int = typer.Option(0, "--seed"),
):
    try:
        candidates = [parse_candidate(c) for c in candidate]
        record = select_best(candidates, validation, metrics_dir, output, n_docs=n_docs or None, seed=seed,
                             log=msg.text)
    except (ValueError, FileNotFoundError) as err:
        msg.fail(str(err), exits=1)
    msg.good(f"{record['chosen']} chosen on {record['n_docs']} validation sentences -> {output}")


if __name__ == "__main__":
    typer.run(main)
