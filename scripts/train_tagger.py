"""Train the LLM tagger (raredis_llm_tagger) and save it as spaCy pipelines (resumable).

    python scripts/train_tagger.py configs/tagger_cpu.cfg          # CPU profile (fits `all`)
    python scripts/train_tagger.py configs/tagger_gpu.cfg          # to convergence on a GPU
    python scripts/train_tagger.py configs/tagger_cpu.cfg --training.max_steps 20 --paths.output /tmp/tagger

Resumes from <output>/checkpoint/ when it exists (--no-resume starts over); --session-steps N
stops after N steps of this session (a learning-curve point; resume to go on). Writes
<output>/model-best/ (best validation F1), <output>/model-last/ and <output>/metadata.json.
"""

from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides

from raredis_llm.tagger.settings import load_setup
from raredis_llm.tagger.trainer import TaggerTrainer

app = typer.Typer(add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="Tagger config (configs/tagger_cpu.cfg or tagger_gpu.cfg)"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from <output>/checkpoint"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a tqdm progress bar"),
    session_steps: int = typer.Option(0, help="Stop this session after N steps (resume later; the schedule "
                                      "still follows max_steps)"),
):
    setup = load_setup(config, parse_config_overrides(ctx.args))
    meta = TaggerTrainer(setup, progress=progress).train(resume=resume, session_steps=session_steps)
    typer.echo(f"Pipelines: {Path(setup.output_dir) / 'model-best'} (step {meta['best_step']}, validation F1 "
               f"{meta['best_val_f']}), model-last; {meta['steps']} steps, {meta['elapsed_s'] / 60:.1f} min")


if __name__ == "__main__":
    app()
