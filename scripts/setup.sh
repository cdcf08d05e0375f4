#!/usr/bin/env bash
# Set up a virtual environment with everything the project needs, at the exact versions of
# requirements/lock.txt (the package itself declares ranges: pyproject.toml).
#   bash scripts/setup.sh          # the project (spacy project run all)
#   bash scripts/setup.sh --test   # plus the test tools and llama-cpp-python's server
#                                  # (built from source where no wheel is cached: minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOCK=requirements/lock.txt
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, from the lock: an unpinned torch pulls the CUDA build (gigabytes).
.venv/bin/python -m pip install -q -c "$LOCK" torch
extras="[project]"
if [ "${1:-}" = "--test" ]; then
  extras="[project,test,server]"
  # llama.cpp compiled for the machine it runs on would break on another CPU: build generic.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
fi
.venv/bin/python -m pip install -q -c "$LOCK" -e ".${extras}"
echo "Set up: $(.venv/bin/python -c 'import spacy, raredis_llm; print("spacy", spacy.__version__, "raredis_llm", raredis_llm.__version__)')"
