"""Wall-clock time of each project step, kept in ``<metrics_dir>/timings.json``.

Runs outside the ``all`` workflow (``llm-openai``) keep theirs in another file of the same
folder, so the report's total stays the total of ``all``.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Union


TIMINGS_FILE = "timings.json"


def record(metrics_dir: Union[str, Path], step: str, seconds: float, file: str = TIMINGS_FILE) -> Dict[str, float]:
    path = Path(metrics_dir) / file
    path.parent.mkdir(parents=True, exist_ok=True)
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[step] = round(seconds, 1)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(timings, indent=2))
    os.replace(tmp, path)
    return timings


def run_timed(metrics_dir: Union[str, Path], step: str, command: List[str], file: str = TIMINGS_FILE) -> int:
    if command and command[0] in ("python", "python3"):
        command = [sys.executable] + list(command[1:])  # as spaCy projects do
    start = time.time()
    code = subprocess.call(command)
    seconds = time.time() - start
    if code == 0:
        timings = record(metrics_dir, step, seconds, file=file)
        print(f"[timed] {step}: {seconds:.1f} s (all recorded steps: {sum(timings.values()):.0f} s)", flush=True)
    else:
        print(f"[timed] {step} failed with exit code {code} after {seconds:.1f} s", flush=True)
    return code
