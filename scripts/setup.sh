#!/usr/bin/env bash
# Set up a virtual environment with everything the project needs.
#   bash scripts/setup.sh          # the project (spacy project run all)
#   bash scripts/setup.sh --test   # plus the test tools and llama-cpp-python's server
#                                  # (built from source: about 8 minutes the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: an unpinned torch pulls the CUDA build (gigabytes).
.venv/bin/python -m pip install -q "torch==2.13.0"
extras=""
if [ "${1:-}" = "--test" ]; then
  extras="[test,server]"
  # llama.cpp compiled for the machine it runs on would break on another CPU: build generic.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
fi
.venv/bin/python -m pip install -q -e ".${extras}"
echo "Set up: $(.venv/bin/python -c 'import spacy, raredis_llm; print("spacy", spacy.__version__, "raredis_llm", raredis_llm.__version__)')"
