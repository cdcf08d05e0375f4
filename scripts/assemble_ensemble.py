"""Assemble a span-voting ensemble of saved pipelines (raredis_llm.ensemble).

    python scripts/assemble_ensemble.py training/ensemble --member cnn=training/cnn/model-best \
        --member trf=training/trf/model-best --member llm=training/raredis_llm_ner \
        --member dictionary=training/dictionary --min-votes 2

Members are listed in priority order (ties go to the earlier one); the tokenizer is the
first one's, or --tokenizer-from NAME's.
"""

from pathlib import Path
from typing import List

import typer
from wasabi import msg

from raredis_llm.ensemble import build_ensemble
from raredis_llm.ensemble.build import member_specs


def main(
    output: Path = typer.Argument(..., help="Folder for the ensemble pipeline"),
    member: List[str] = typer.Option(..., help="NAME=PATH of a saved pipeline (repeatable, priority order)"),
    min_votes: int = typer.Option(2, help="Members that must propose a span"),
    tokenizer_from: str = typer.Option("", help="The member whose tokenizer the ensemble uses (default: the first)"),
):
    nlp = build_ensemble(member_specs(member), min_votes=min_votes, tokenizer_from=tokenizer_from or None)
    nlp.to_disk(output)
    msg.good(f"Saved {output}: {nlp.pipe_names}, min_votes {min_votes}")


if __name__ == "__main__":
    typer.run(main)
