"""Package a pipeline (wheel) with its test metrics in its meta.

    python scripts/package_pipeline.py packages --selection metrics/selection.json
    python scripts/package_pipeline.py packages --pipeline training/raredis_llm_ner \
        --metrics metrics/lora_finetuned.json --name raredis_llm_gen

--selection packages the pipeline chosen on validation by scripts/select_pipeline.py.
"""

from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from raredis_llm.packaging import build
from raredis_llm.selection import read_selection


def main(
    output_dir: Path = typer.Argument(..., help="Where packages go (packages/)"),
    pipeline: Optional[Path] = typer.Option(None, help="Pipeline folder (instead of --selection)"),
    metrics: Optional[Path] = typer.Option(None, help="metrics JSON of scripts/evaluate.py for meta performance"),
    selection: Optional[Path] = typer.Option(None, help="metrics/selection.json: package the pipeline chosen on validation"),
    name: str = typer.Option("raredis_llm"),
    version: str = typer.Option("0.1.0"),
):
    record = None
    if selection is not None:
        record = read_selection(selection)
        pipeline, metrics = Path(record["pipeline"]), Path(record["test_metrics"])
        msg.info(f"{name}: {record['chosen']} ({pipeline}), chosen on {record['split']}")
    if pipeline is None:
        msg.fail("Give --pipeline or --selection", exits=1)
    built = build(pipeline, output_dir, metrics, name, version, selection=record)
    msg.good(f"Built {built['pipeline_wheel']}")
    msg.text(f"Install offline: pip install {built['project_wheel']} {built['pipeline_wheel']}")


if __name__ == "__main__":
    typer.run(main)
