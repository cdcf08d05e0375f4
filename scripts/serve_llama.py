"""Serve a GGUF model with llama-cpp-python's OpenAI-compatible server (for raredis.OpenAIChat.v1).

    python scripts/serve_llama.py [--model offline:gemma-3-270m | file.gguf] [--port 8080] [--n-ctx 2048]
        [--lora training/raredis_llm_ner/raredis_llm_ner/adapter/adapter.gguf]

Configs then use base_url = "http://127.0.0.1:8080/v1" and endpoint = "completions"; with
--lora the fine-tuned component can use it (engine raredis.OpenAIEngine.v1).
Needs the server extra (pip install ".[server]"). Ctrl-C stops it.
"""

import subprocess
from typing import Optional

import typer
from wasabi import msg

from raredis_llm.models.llama_server import check_installed, server_command


def main(
    model: str = typer.Option("offline:gemma-3-270m", help="GGUF file or offline:gemma-3-270m"),
    host: str = typer.Option("127.0.0.1", help="Listen address"),
    port: int = typer.Option(8080, help="Listen port"),
    n_ctx: int = typer.Option(2048, "--n-ctx", help="Context size in tokens"),
    n_threads: Optional[int] = typer.Option(None, "--n-threads", help="CPU threads (default: up to 8)"),
    n_gpu_layers: int = typer.Option(0, "--n-gpu-layers", help="Layers offloaded to a GPU (-1: all)"),
    lora: Optional[str] = typer.Option(None, "--lora", help="A LoRA adapter as GGUF (the component writes adapter.gguf)"),
):
    check_installed()
    cmd = server_command(model, host=host, port=port, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=n_gpu_layers,
                         lora=lora)
    msg.info(f"Serving on http://{host}:{port}/v1 (base_url for raredis.OpenAIChat.v1); Ctrl-C stops")
    try:
        subprocess.run(cmd, check=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    typer.run(main)
