"""Benchmark `python -m raredis_llm annotate`: documents/s (1 and 2 processes), memory at
1k and 10k documents, and a SIGKILL half-way followed by a restart.

    python scripts/benchmark_annotate.py --pipeline cnn=training/cnn/model-best \
        --pipeline trf=training/trf/model-best --n-docs 1000 --n-docs 10000 \
        --output metrics/benchmark_annotate.json

Input: RareDis sentences (corpus/{train,validation}.spacy) cycled to N documents.
Times depend on the machine and its load: compare rows of one run, not across runs.
"""

import json
import shutil
from pathlib import Path
from typing import List

import typer

from raredis_llm.annotate.benchmark import kill_and_restart, make_input, run_annotate
from raredis_llm.util import named_path, write_json


def main(
    pipeline: List[str] = typer.Option(..., help="NAME=PATH (repeatable)"),
    n_docs: List[int] = typer.Option([1000, 10000], help="Corpus sizes (repeatable)"),
    n_process: List[int] = typer.Option([1, 2], help="Worker processes (repeatable)"),
    max_docs_for: List[str] = typer.Option([], help="NAME=N: run pipeline NAME only on corpora up to N docs"),
    sources: List[Path] = typer.Option([Path("corpus/train.spacy"), Path("corpus/validation.spacy")]),
    work_dir: Path = typer.Option(Path("metrics/benchmark_annotate")),
    output: Path = typer.Option(Path("metrics/benchmark_annotate.json")),
    kill: bool = typer.Option(True, help="Also kill a run half-way and restart it"),
):
    limits = {k: int(v) for k, v in (x.split("=", 1) for x in max_docs_for)}
    shutil.rmtree(work_dir, ignore_errors=True)
    result = {"inputs": {}, "runs": [], "restarts": []}
    for n in n_docs:
        result["inputs"][n] = make_input(sources, n, work_dir / f"input_{n}.jsonl")
    for spec in pipeline:
        name, path = named_path(spec, "pipeline")
        for n in n_docs:
            if n > limits.get(name, n):
                continue
            for procs in n_process:
                folder = work_dir / f"{name}_{n}_{procs}p"
                run = run_annotate(path, work_dir / f"input_{n}.jsonl", folder / "out.jsonl", n_process=procs,
                                   marks=sorted({min(1000, n), n}))
                row = {"pipeline": name, "docs": n, "n_process": procs, **{k: run[k] for k in (
                    "returncode", "wall_s", "peak_rss_mb", "rss_mb_at_lines")}}
                summary = run.get("summary") or {}
                row.update({k: summary.get(k) for k in ("done", "failed", "docs_per_s")})
                if "stderr" in run:
                    row["stderr"] = run["stderr"]
                result["runs"].append(row)
                print(json.dumps(row))
                if kill and procs == n_process[0] and n == n_docs[0]:
                    restart = kill_and_restart(path, work_dir / f"input_{n}.jsonl", work_dir / f"{name}_{n}_kill",
                                               folder / "out.jsonl", kill_at=n // 2, n_process=procs)
                    result["restarts"].append({"pipeline": name, "docs": n, "n_process": procs, **restart})
                    print(json.dumps(result["restarts"][-1]))
    write_json(result, output)
    print(f"| pipeline | docs | processes | docs/s | wall s | RSS at 1k docs (MB) | RSS at end (MB) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in result["runs"]:
        at = r["rss_mb_at_lines"]
        marks = sorted(int(k) for k in at)
        print(f"| {r['pipeline']} | {r['docs']} | {r['n_process']} | {r['docs_per_s']} | {r['wall_s']} | "
              f"{at.get(marks[0]) if marks else '-'} | {at.get(marks[-1]) if marks else '-'} | {r['peak_rss_mb']} |")


if __name__ == "__main__":
    typer.run(main)
