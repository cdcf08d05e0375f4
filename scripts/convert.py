"""Convert RareDis BRAT files to spaCy DocBins (sentence and document level).

    python scripts/convert.py assets/raredis corpus [--merge-skin true] [--lenient] [--n-docs 6]
"""

import shutil
import tempfile
from pathlib import Path

import typer
from wasabi import msg

from raredis_llm.corpus.convert import convert_corpus, report_rows
from raredis_llm.corpus.slicing import slice_corpus


def main(
    source_dir: Path = typer.Argument(..., help="RareDis folder: train.zip + dev.zip, or train/ dev/ [test/]"),
    output_dir: Path = typer.Argument(..., help="Where {split}.spacy and docs/{split}.spacy go"),
    merge_skin: str = typer.Option("false", "--merge-skin", help="true: tag SKINRAREDISEASE as RAREDISEASE in doc.ents"),
    lenient: bool = typer.Option(False, "--lenient", help="Skip bad lines with a warning instead of failing"),
    validation_fraction: float = typer.Option(0.1, help="Share of train documents held out for validation"),
    seed: int = typer.Option(0, help="Seed of the validation split"),
    n_docs: int = typer.Option(0, "--n-docs", help="Keep the first N documents of each split (0: all; smoke runs)"),
):
    merge = merge_skin.lower() in {"true", "1", "yes"}
    if n_docs > 0:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=output_dir.parent) as tmp:
            report = convert_corpus(source_dir, tmp, merge_skin=merge, lenient=lenient,
                                    validation_fraction=validation_fraction, seed=seed)
            shutil.rmtree(output_dir, ignore_errors=True)
            sliced = slice_corpus(tmp, output_dir, n_docs=n_docs)
            shutil.copy(Path(tmp) / "conversion_report.json", output_dir / "conversion_report.json")
        msg.info(f"Kept the first {n_docs} documents per split: "
                 + ", ".join(f"{k} {v['sentences']} sentences" for k, v in sliced.items()))
    else:
        report = convert_corpus(source_dir, output_dir, merge_skin=merge, lenient=lenient,
                                validation_fraction=validation_fraction, seed=seed)
    msg.info(f"Split policy: {report['split_policy']}")
    for split, stats in report["splits"].items():
        msg.text(f"{split}: {stats['documents']} documents, {stats['sentences']} sentences, "
                 f"{stats['relations']} relations, issues {stats['issues'] or 'none'}, "
                 f"{len(stats['merged_sentence_boundaries'])} sentence boundaries removed to keep entities whole")
    msg.table(report_rows(report), header=["split", "label", "read", "in doc.ents", "only in doc.spans", "why"], divider=True)
    msg.good(f"Wrote {output_dir} (report: {Path(output_dir) / 'conversion_report.json'})")


if __name__ == "__main__":
    typer.run(main)
