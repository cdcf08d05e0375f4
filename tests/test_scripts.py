"""Every script in scripts/ imports (its imports are the package's current layout) and
shows its help: a thin entry point that points at a moved module fails here, not in a
user's run."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted(p for p in (Path(__file__).parents[1] / "scripts").glob("*.py") if p.name != "timed.py")


def test_scripts_found():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_shows_help(script):
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage" in result.stdout or "usage" in result.stdout, result.stdout[-500:]
