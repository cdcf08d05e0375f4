"""Start llama-cpp-python's OpenAI-compatible server on a GGUF model (and a GGUF LoRA
adapter): ``python scripts/serve_llama.py --port 8080 [--lora adapter.gguf]``, then point
``raredis.OpenAIChat.v1`` or ``raredis.OpenAIEngine.v1`` at ``http://127.0.0.1:8080/v1``.
Needs ``pip install 'llama-cpp-python[server]==0.3.36'`` (the ``server`` extra).
"""

import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Union

from .offline import resolve_gguf
from .precision import usable_cores

INSTALL_HINT = "pip install 'llama-cpp-python[server]==0.3.36'  (or pip install -e '.[server]')"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for a server started next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def check_installed() -> None:
    try:
        import llama_cpp  # noqa: F401
        import llama_cpp.server.app  # noqa: F401
    except ImportError as err:
        raise ImportError(f"llama-cpp-python with its server extra is not installed ({err}): {INSTALL_HINT}") from err


def server_command(
    model: Union[str, Path] = "offline:gemma-3-270m",
    host: str = "127.0.0.1",
    port: int = 8080,
    n_ctx: int = 2048,
    n_threads: Optional[int] = None,
    n_gpu_layers: int = 0,
    lora: Optional[Union[str, Path]] = None,
    verbose: bool = False,
    extra: Optional[List[str]] = None,
) -> List[str]:
    threads = str(n_threads or usable_cores())
    if lora is not None and not Path(lora).is_file():
        raise FileNotFoundError(f"GGUF LoRA adapter not found: {lora}")
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(resolve_gguf(model)),
        "--host", host, "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", threads, "--n_threads_batch", threads,
        "--n_gpu_layers", str(n_gpu_layers), "--seed", "0", "--verbose", str(verbose),
        *(["--lora_path", str(lora)] if lora else []),
        *(extra or []),
    ]


def wait_until_ready(url: str, proc: Optional[subprocess.Popen] = None, timeout: float = 180.0) -> None:
    """Poll ``{url}/models`` until it answers 200; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/models", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"llama_cpp.server did not answer {url}/models within {timeout:.0f}s")
        time.sleep(0.25)


@contextmanager
def running_server(log_file: Optional[Path] = None, timeout: float = 180.0, **kwargs) -> Iterator[str]:
    """Start the server as a subprocess, yield its base URL, stop it on exit."""
    check_installed()
    cmd = server_command(**kwargs)
    host, port = kwargs.get("host", "127.0.0.1"), kwargs.get("port", 8080)
    url = f"http://{host}:{port}/v1"
    log = open(log_file, "wb") if log_file else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until_ready(url, proc, timeout)
        except (RuntimeError, TimeoutError) as err:
            tail = Path(log_file).read_text(errors="replace")[-3000:] if log_file else ""
            raise RuntimeError(f"{err}\n{' '.join(cmd)}\n{tail}") from None
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        if log_file:
            log.close()
