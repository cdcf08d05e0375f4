"""Gather metrics/*.json into REPORT.md, F1 charts, errors.html and RESULTS.md.

    python scripts/report.py metrics/ --output metrics/REPORT.md [--readme README.md]

With --readme, the README text between <!-- results:start --> and <!-- results:end -->
is replaced by RESULTS.md (the README is left alone when the markers are missing).
"""

from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from raredis_llm.scoring.report import build_report


def main(
    metrics_dir: Path = typer.Argument(..., help="Folder of metrics JSON files", exists=True, file_okay=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Default: METRICS_DIR/REPORT.md"),
    results: Optional[Path] = typer.Option(None, "--results", help="README snippet; default: RESULTS.md beside the report"),
    readme: Optional[Path] = typer.Option(None, "--readme", help="README to splice the results table into"),
    max_html_docs: int = typer.Option(50, "--max-html-docs", help="Sentences per system in errors.html"),
):
    out = build_report(metrics_dir, output=output, results=results, readme=readme, max_html_docs=max_html_docs)
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
