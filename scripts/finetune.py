"""LoRA fine-tuning of a causal LM on the instruction data (resumable).

    python scripts/finetune.py configs/finetune_cpu.cfg              # one epoch on 2 CPU cores
    python scripts/finetune.py configs/finetune_gpu.cfg              # to convergence on a GPU
    python scripts/finetune.py configs/finetune_cpu.cfg --training.max_steps 20 --paths.output /tmp/lora

Resumes from <output>/checkpoint/ when it exists (--no-resume starts over). Writes
<output>/adapter/ (best adapter) and <output>/metadata.json.
"""

from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides

from raredis_llm.finetune import load_setup
from raredis_llm.finetune.trainer import train

app = typer.Typer(add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="Fine-tuning config (configs/finetune_cpu.cfg or finetune_gpu.cfg)"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from <output>/checkpoint"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a tqdm progress bar"),
):
    setup = load_setup(config, parse_config_overrides(ctx.args))
    meta = train(setup, resume=resume, progress=progress)
    typer.echo(f"Adapter: {meta['adapter']}  steps: {meta['steps']}  best step: {meta['best_step']}  "
               f"best {meta['best_metric']['name']}: {meta['best_metric']['value']}  "
               f"({meta['seconds'] / 60:.1f} min; metadata: {Path(setup.output_dir) / 'metadata.json'})")


if __name__ == "__main__":
    app()
