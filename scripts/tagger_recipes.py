"""Train and score the tagger recipes of a recipes file on the validation split.

    python scripts/tagger_recipes.py configs/tagger_recipes.yml metrics/tagger_recipes \
        --train corpus/train.spacy --validation corpus/validation.spacy [--only default,context]

Resumable: run it again and the finished recipes are read back, not trained again.
Writes <output>/<recipe>/ (the trained tagger), <output>/recipes.json and recipes.md.
"""

from pathlib import Path

import typer
from wasabi import msg

from raredis_llm.tagger.recipes import run_recipes


def main(
    recipes: Path = typer.Argument(..., help="Recipes file (configs/tagger_recipes.yml)", exists=True),
    output: Path = typer.Argument(..., help="Output folder"),
    train: Path = typer.Option(Path("corpus/train.spacy"), help="Training DocBin"),
    validation: Path = typer.Option(Path("corpus/validation.spacy"), help="Validation DocBin"),
    only: str = typer.Option("", help="Comma-separated recipe names (default: all)"),
    seed: int = typer.Option(0, help="Seed of every recipe"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
):
    try:
        rows = run_recipes(recipes, output, train, validation, [n for n in only.split(",") if n] or None,
                           seed=seed, log=msg.text, progress=progress)
    except (ValueError, FileNotFoundError) as err:
        msg.fail(str(err), exits=1)
    msg.good(f"{len(rows)} recipes -> {output / 'recipes.md'}")
    print((output / "recipes.md").read_text())


if __name__ == "__main__":
    typer.run(main)
