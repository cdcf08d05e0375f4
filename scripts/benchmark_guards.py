"""The guards' time per 1,000 words at 1x, 8x and 64x the length of a note with markup and
bullets, as ratios to the 1x row (1.0: linear in the document's length).

    python scripts/benchmark_guards.py --n-words 3250 --output metrics/benchmark_guards.json
"""

from pathlib import Path
from typing import List

import typer

from raredis_llm.bench.guards import format_table, scaling
from raredis_llm.util import write_json


def main(
    n_words: int = typer.Option(3250, help="Words of the 1x note"),
    multiple: List[int] = typer.Option([1, 8, 64], help="Lengths as multiples of --n-words (repeatable)"),
    repeats: int = typer.Option(3, help="Runs per length; the fastest counts"),
    output: Path = typer.Option(None, help="JSON file for the rows"),
):
    result = scaling(n_words, multiple, repeats)
    print(format_table(result))
    if output:
        write_json(result, output)


if __name__ == "__main__":
    typer.run(main)
