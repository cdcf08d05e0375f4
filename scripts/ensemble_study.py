"""Span voting for every subset of candidate members and every vote count, on validation.

    python scripts/ensemble_study.py corpus/validation.spacy metrics/ensemble_study \
        --member tagger=training/tagger/model-best --member cnn=training/cnn/model-best \
        --member trf=training/trf/model-best --member llm=training/raredis_llm_ner \
        --member dictionary=training/dictionary [--must tagger] [--n-docs 0]

Members in priority order (ties go to the earlier one, as in the ensemble). Writes
<output>/study.json (every row) and study.md (the best rows and every member alone).
"""

from pathlib import Path
from typing import List

import typer
from wasabi import msg

from raredis_llm.ensemble.build import member_specs
from raredis_llm.ensemble.study import member_spans, study_table, vote_rows
from raredis_llm.scoring.evaluate import load_gold_docs, sample_docs
from raredis_llm.util import write_json, write_text


def main(
    data: Path = typer.Argument(..., help="Validation DocBin", exists=True, dir_okay=False),
    output: Path = typer.Argument(..., help="Output folder"),
    member: List[str] = typer.Option(..., help="NAME=PIPELINE (repeatable, priority order)"),
    must: str = typer.Option("", help="Only subsets holding this member (and every member alone)"),
    n_docs: int = typer.Option(0, help="A seeded sample of N sentences (0: all)"),
    seed: int = typer.Option(0),
    top: int = typer.Option(20, help="Rows in study.md"),
):
    members = member_specs(member)
    if must and must not in [n for n, _ in members]:
        msg.fail(f"--must {must}: not a member", exits=1)
    _, gold = sample_docs(load_gold_docs(data), n_docs or None, seed)
    spans, speed = member_spans(members, gold, log=msg.text)
    rows = vote_rows(spans, speed, gold, must=must or None)
    write_json({"data": str(data), "n_docs": len(gold), "members": dict((n, str(p)) for n, p in members),
                "rows": rows}, output / "study.json")
    table = study_table(rows, top)
    write_text(table, output / "study.md")
    print(table)
    msg.good(f"{len(rows)} combinations on {len(gold)} sentences -> {output / 'study.md'}")


if __name__ == "__main__":
    typer.run(main)
