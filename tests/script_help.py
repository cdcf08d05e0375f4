"""Run ``SCRIPT --help`` for each script named on the command line in this one interpreter
(the imports they share load once) and write ``{script: {"code", "out"}}`` as JSON to the
file named first. Used by tests/test_scripts.py."""

import contextlib
import io
import json
import runpy
import sys
import traceback
from pathlib import Path


def main(output: str, *scripts: str) -> None:
    results = {}
    for script in scripts:
        buffer = io.StringIO()
        code = 0
        sys.argv = [script, "--help"]
        sys.path[0] = str(Path(script).parent)  # as `python scripts/x.py` sets it
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            try:
                runpy.run_path(script, run_name="__main__")
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
                if not isinstance(stop.code, (int, type(None))):
                    print(stop.code)
            except BaseException:  # an import that fails is what this looks for
                traceback.print_exc()
                code = 1
        results[Path(script).name] = {"code": code, "out": buffer.getvalue()}
    Path(output).write_text(json.dumps(results), encoding="utf8")


if __name__ == "__main__":
    main(*sys.argv[1:])
