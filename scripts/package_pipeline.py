"""Package the fine-tuned pipeline as en_raredis_llm (wheel), with its test metrics.

    python scripts/package_pipeline.py training/raredis_llm_ner packages --metrics metrics/lora_finetuned.json
"""

from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from raredis_llm.packaging import build


def main(
    pipeline: Path = typer.Argument(..., help="Pipeline folder (training/raredis_llm_ner)"),
    output_dir: Path = typer.Argument(..., help="Where packages go (packages/)"),
    metrics: Optional[Path] = typer.Option(None, help="metrics JSON of scripts/evaluate.py for meta performance"),
    name: str = typer.Option("raredis_llm"),
    version: str = typer.Option("0.1.0"),
):
    built = build(pipeline, output_dir, metrics, name, version)
    msg.good(f"Built {built['pipeline_wheel']}")
    msg.text(f"Install offline: pip install {built['project_wheel']} {built['pipeline_wheel']}")


if __name__ == "__main__":
    typer.run(main)
