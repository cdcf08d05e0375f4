"""Run a command, print how long it took, and record it in <metrics_dir>/timings.json.

    python scripts/timed.py metrics STEP -- COMMAND ...

The report shows each step's time and the total (used by every project.yml command).
"""

import sys

from raredis_llm.scoring.timings import run_timed

if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 4 or args[2] != "--":
        sys.exit("usage: python scripts/timed.py METRICS_DIR STEP -- COMMAND ...")
    sys.exit(run_timed(args[0], args[1], args[3:]))
