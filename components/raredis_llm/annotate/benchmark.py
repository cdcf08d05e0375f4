"""Benchmark of ``python -m raredis_llm annotate`` as a user runs it (a subprocess):
documents/s, memory (PSS of the process tree) as the output grows, and a SIGKILL half-way followed by a
restart (what was kept, what was skipped, whether the output equals an uninterrupted
run's). Used by ``scripts/benchmark_annotate.py``.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from spacy.tokens import DocBin
from spacy.vocab import Vocab


def make_input(sources: Sequence[Path], n_docs: int, output: Path) -> Dict[str, Any]:
    """A JSONL input of ``n_docs`` texts cycled from the DocBins ``sources`` (ids ``000000``...)."""
    texts: List[str] = []
    for source in sources:
        texts.extend(doc.text for doc in DocBin().from_disk(source).get_docs(Vocab()))
    words = 0
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf8") as f:
        for i in range(n_docs):
            text = texts[i % len(texts)]
            words += len(text.split())
            f.write(json.dumps({"id": f"{i:06d}", "text": text}, ensure_ascii=False) + "\n")
    return {"docs": n_docs, "words": words, "distinct_texts": len(texts)}


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def _tree_rss_mb(pid: int) -> float:
    """Memory of a process and its children: proportional set size where the system
    reports it (pages shared after a fork counted once), else resident set size."""
    import psutil

    def size(p) -> int:
        try:
            return p.memory_full_info().pss
        except (psutil.AccessDenied, AttributeError):
            return p.memory_info().rss

    total = 0
    try:
        proc = psutil.Process(pid)
        for p in [proc, *proc.children(recursive=True)]:
            try:
                total += size(p)
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        return 0.0
    return total / 2**20


def run_annotate(pipeline: str, input_path: Path, output: Path, *, n_process: int = 1, batch_size: int = 64,
                 extra: Sequence[str] = (), marks: Sequence[int] = (), kill_at: Optional[int] = None,
                 poll_s: float = 0.2) -> Dict[str, Any]:
    """Run the CLI; sample the process tree's RSS when the output reaches each of ``marks``
    lines (and its peak); with ``kill_at``, SIGKILL the tree once that many lines exist."""
    cmd = [sys.executable, "-m", "raredis_llm", "annotate", pipeline, str(input_path), str(output),
           "--n-process", str(n_process), "--batch-size", str(batch_size), "--no-progress", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    rss_at: Dict[int, float] = {}
    peak = 0.0
    killed_at_lines = None
    while proc.poll() is None:
        rss = _tree_rss_mb(proc.pid)
        peak = max(peak, rss)
        lines = _lines(output)
        for mark in marks:
            if mark not in rss_at and lines >= mark:
                rss_at[mark] = round(rss, 1)
        if kill_at is not None and lines >= kill_at:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_at_lines = _lines(output)
            break
        time.sleep(poll_s)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    result: Dict[str, Any] = {"returncode": proc.returncode, "wall_s": round(wall, 2), "peak_rss_mb": round(peak, 1),
                              "rss_mb_at_lines": rss_at, "killed_at_lines": killed_at_lines}
    summary = output.with_name(output.stem + ".summary.json")
    if killed_at_lines is None and proc.returncode == 0 and summary.exists():
        result["summary"] = json.loads(summary.read_text())
    elif proc.returncode not in (0, -signal.SIGKILL):
        result["stderr"] = err.decode(errors="replace")[-3000:]
    return result


def kill_and_restart(pipeline: str, input_path: Path, folder: Path, reference: Path, kill_at: int,
                     **kwargs) -> Dict[str, Any]:
    """Kill a run at ``kill_at`` output lines, run it again, compare with ``reference``."""
    output = folder / "out.jsonl"
    killed = run_annotate(pipeline, input_path, output, kill_at=kill_at, **kwargs)
    size_after_kill = output.stat().st_size if output.exists() else 0
    torn = output.exists() and size_after_kill and not output.read_bytes().endswith(b"\n")
    restarted = run_annotate(pipeline, input_path, output, **kwargs)
    summary = restarted.get("summary", {})
    return {"killed_at_lines": killed["killed_at_lines"], "torn_last_line": bool(torn),
            "restart_skipped_done": summary.get("skipped_done"), "restart_done": summary.get("done"),
            "restart_failed": summary.get("failed"), "repaired": summary.get("repaired"),
            "restart_wall_s": restarted["wall_s"],
            "identical_to_uninterrupted": output.read_bytes() == reference.read_bytes()}
