"""Write the first N documents of each split of a converted corpus (for smoke runs).

    python scripts/slice_corpus.py corpus/ corpus_smoke/ --n-docs 8
"""

from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from raredis_llm.baselines.slicing import slice_corpus


def main(
    input_dir: Path = typer.Argument(..., help="Converted corpus: {split}.spacy and docs/{split}.spacy", exists=True, file_okay=False),
    output_dir: Path = typer.Argument(..., help="Where the sliced corpus goes (same layout)"),
    n_docs: int = typer.Option(8, "--n-docs", "-n", help="Documents kept per split (the first ones, in file order)"),
    split: Optional[List[str]] = typer.Option(None, "--split", help="Split to slice (repeatable; default: all)"),
):
    try:
        result = slice_corpus(input_dir, output_dir, n_docs=n_docs, splits=split or None)
    except ValueError as err:
        msg.fail(str(err), exits=1)
    for name, info in result.items():
        msg.text(f"{name}: {len(info['documents'])} documents, {info['sentences']} sentences")
    msg.good(f"Wrote {output_dir}")


if __name__ == "__main__":
    typer.run(main)
