"""Fixtures for the LLM backend tests: real local servers, never a remote API.

* ``llama_server`` (session): llama-cpp-python's OpenAI-compatible server running the
  offline Gemma 3 270M GGUF on 127.0.0.1 (a free port). Not installed -> the tests
  FAIL with the install command; CI installs the ``server`` extra.
* ``faulty_server``: the deliberately unreliable server of ``tests/llm/servers.py``.
"""

import os

from pathlib import Path

import pytest

import raredis_llm.llm.backends  # noqa: F401
from tests.llm.servers import TINY_TEMPLATE, FaultyOpenAIServer

LLAMA_START_TIMEOUT = float(os.environ.get("RAREDIS_LLAMA_START_TIMEOUT", "180"))


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """Base URL (``http://127.0.0.1:PORT/v1``) of a llama.cpp server with Gemma 3 270M."""
    from raredis_llm.models.llama_server import check_installed, free_port, running_server

    try:
        check_installed()
    except ImportError as err:  # CI installs it: a missing server is a failure, not a skip
        pytest.fail(str(err), pytrace=False)
    log_file = tmp_path_factory.mktemp("llama_server") / "server.log"
    threads = max(1, min(4, os.cpu_count() or 1))
    try:
        server = running_server(log_file=log_file, timeout=LLAMA_START_TIMEOUT, port=free_port(),
                                n_ctx=2048, n_threads=threads)
        url = server.__enter__()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def faulty_server():
    with FaultyOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def tiny_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("templates") / "tiny_ner.jinja"
    path.write_text(TINY_TEMPLATE, encoding="utf8")
    return path
