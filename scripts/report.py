"""Gather metrics/*.json into REPORT.md, F1 charts, errors.html and RESULTS.md.

    python scripts/report.py metrics/ --output metrics/REPORT.md [--readme README.md]
        [--bootstrap-n 1000] [--seed 0] [--pair SYSTEM_A:SYSTEM_B ...]

With --readme, the README text between <!-- results:start --> and <!-- results:end -->
is replaced by RESULTS.md (the README is left alone when the markers are missing).
"""

from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from raredis_llm.scoring.report import build_report


def main(
    metrics_dir: Path = typer.Argument(..., help="Folder of metrics JSON files", exists=True, file_okay=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Default: METRICS_DIR/REPORT.md"),
    results: Optional[Path] = typer.Option(None, "--results", help="README snippet; default: RESULTS.md beside the report"),
    readme: Optional[Path] = typer.Option(None, "--readme", help="README to splice the results table into"),
    max_html_docs: int = typer.Option(50, "--max-html-docs", help="Sentences per system in errors.html"),
    bootstrap_n: int = typer.Option(1000, "--bootstrap-n", help="Bootstrap resamples per interval"),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap"),
    pair: Optional[List[str]] = typer.Option(None, "--pair", help="A:B, a comparison to add to the paired table"),
):
    extra = []
    for p in pair or []:
        if p.count(":") != 1:
            msg.fail(f"--pair {p!r}: expected SYSTEM_A:SYSTEM_B", exits=1)
        extra.append(tuple(p.split(":")))
    out = build_report(metrics_dir, output=output, results=results, readme=readme, max_html_docs=max_html_docs,
                       n_boot=bootstrap_n, seed=seed, extra_pairs=extra)
    if not out["systems"]:
        msg.warn(f"No metrics file in {metrics_dir}")
    msg.good(f"Wrote {out['report']} ({len(out['systems'])} systems), {out['results']}, "
             f"{', '.join(str(c) for c in out['charts'])}, {out['errors_html']}")
    if readme is not None:
        if out["readme_spliced"]:
            msg.good(f"Updated the results table in {readme}")
        else:
            msg.warn(f"{readme} has no <!-- results:start --> / <!-- results:end --> markers; left unchanged")


if __name__ == "__main__":
    typer.run(main)
