"""Write Alpaca-style instruction data (one record per sentence) for LoRA fine-tuning.

    python scripts/make_instructions.py configs/finetune_cpu.cfg
    python scripts/make_instructions.py configs/finetune_cpu.cfg --prompt.output_format json --output corpus/instructions_json

The [prompt] section of the fine-tuning config decides the instruction, labels and
output format, so the data and the training run always agree.
"""

import json
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import parse_config_overrides

from raredis_llm.finetune import load_setup
from raredis_llm.finetune.instructions import build_instruction_files

app = typer.Typer(add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="Fine-tuning config (its [prompt] section is used)"),
    train: Path = typer.Option(Path("corpus/train.spacy"), help="Sentence-level training DocBin"),
    validation: Path = typer.Option(Path("corpus/validation.spacy"), help="Sentence-level validation DocBin"),
    output: Path = typer.Option(Path("corpus/instructions"), help="Folder for train.jsonl / validation.jsonl"),
    view: str = typer.Option("5type", help="Label view of the gold: 5type or 4type"),
    report: Optional[Path] = typer.Option(None, help="Also write the counts as JSON here"),
):
    overrides = parse_config_overrides(ctx.args)
    setup = load_setup(config, overrides)
    counts = build_instruction_files({"train": train, "validation": validation}, output, setup.prompt, view)
    for split, info in counts.items():
        typer.echo(f"{split}: {info['records']} records ({info['without_entities']} without entities, "
                   f"{info['entities']} entities) -> {info['path']}")
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(counts, indent=2))


if __name__ == "__main__":
    app()
