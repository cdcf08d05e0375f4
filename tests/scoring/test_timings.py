"""scoring/timings.py: each step's wall time recorded by the wrapper every command uses."""

import json
import sys

from raredis_llm.scoring.report import load_timings
from raredis_llm.scoring.timings import run_timed


def test_steps_recorded_and_failures_not(tmp_path):
    ok = [sys.executable, "-c", "import time; time.sleep(1.5)"]
    assert run_timed(tmp_path, "a", ok) == 0
    assert run_timed(tmp_path, "b", [sys.executable, "-c", "raise SystemExit(3)"]) == 3
    timings = load_timings(tmp_path)
    assert list(timings) == ["a"] and timings["a"] >= 1.5
    assert run_timed(tmp_path, "a", ["python", "-c", "pass"]) == 0  # rerun replaces the figure
    assert load_timings(tmp_path)["a"] < 1.5


def test_runs_outside_all_keep_their_own_file(tmp_path):
    run_timed(tmp_path, "train", [sys.executable, "-c", "pass"])
    run_timed(tmp_path, "openai_x", [sys.executable, "-c", "pass"], file="timings_openai.json")
    assert list(load_timings(tmp_path)) == ["train"]  # the report's total of `all`
    assert list(json.loads((tmp_path / "timings_openai.json").read_text())) == ["openai_x"]
