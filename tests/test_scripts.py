"""Every script in scripts/ imports (its imports are the package's current layout) and
shows its help: a thin entry point that points at a moved module fails here, not in a
user's run. All scripts run in one fresh interpreter, one after the other, so the imports
they share load once (tests/script_help.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCRIPTS = sorted(p for p in (ROOT / "scripts").glob("*.py") if p.name != "timed.py")


def test_scripts_found():
    assert len(SCRIPTS) >= 10


@pytest.fixture(scope="module")
def helps(tmp_path_factory):
    output = tmp_path_factory.mktemp("help") / "help.json"
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "script_help.py"), str(output), *map(str, SCRIPTS)],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(output.read_text(encoding="utf8"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
@pytest.mark.slow
def test_script_shows_help(helps, script):
    result = helps[script.name]
    assert result["code"] == 0, result["out"][-2000:]
    assert "Usage" in result["out"] or "usage" in result["out"], result["out"][-500:]


@pytest.mark.slow
def test_a_script_that_fails_to_import_is_reported(tmp_path):
    """The one-interpreter runner reports a failing import as a failure, not as help."""
    broken = tmp_path / "broken.py"
    broken.write_text("import raredis_llm.no_such_module\n")
    output = tmp_path / "help.json"
    subprocess.run([sys.executable, str(ROOT / "tests" / "script_help.py"), str(output), str(broken),
                    str(ROOT / "scripts" / "evaluate.py")], check=True, timeout=600, cwd=ROOT)
    results = json.loads(output.read_text(encoding="utf8"))
    assert results["broken.py"]["code"] == 1 and "no_such_module" in results["broken.py"]["out"]
    assert results["evaluate.py"]["code"] == 0 and "Usage" in results["evaluate.py"]["out"]
