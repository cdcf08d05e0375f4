"""Every prompting strategy on an OpenAI-compatible server: assemble configs/openai/*.cfg,
score each on the test split (metrics/openai_<strategy>.json; step times in
metrics/timings_openai.json, apart from the `all` workflow's timings.json).

    python scripts/llm_openai.py [--base-url auto|URL] [--model NAME] [--n-docs 8] ...

--base-url auto (the default) starts llama-cpp-python's server on 127.0.0.1 with the
offline Gemma 3 270M GGUF for the duration of the run (needs the `server` extra);
any other URL is used as it is (vLLM, Ollama, a llama.cpp server you started, ...).
OpenAI itself: --base-url https://api.openai.com/v1 --model gpt-4o --endpoint chat, with
the key in $OPENAI_API_KEY.
"""

import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from raredis_llm.llm.backends.llama_server import free_port, running_server
from raredis_llm.scoring.timings import run_timed


def main(
    configs_dir: Path = typer.Option(Path("configs/openai"), "--configs", exists=True, file_okay=False),
    strategies: Optional[List[str]] = typer.Option(None, "--strategy", "-s", help="Config stems (default: all)"),
    base_url: str = typer.Option("auto", "--base-url", help="'auto': start a local llama.cpp server"),
    model: str = typer.Option("gemma-3-270m", "--model", help="Model name sent to the server"),
    endpoint: str = typer.Option("completions", "--endpoint", help="'completions' (base models) or 'chat'"),
    gguf: str = typer.Option("offline:gemma-3-270m", "--gguf", help="GGUF for --base-url auto"),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus-dir"),
    training_dir: Path = typer.Option(Path("training"), "--training-dir"),
    metrics_dir: Path = typer.Option(Path("metrics"), "--metrics-dir"),
    n_docs: int = typer.Option(8, "--n-docs", help="Test sentences per strategy (0: all)"),
    max_tokens: int = typer.Option(512, "--max-tokens", help="Upper bound; answers are sized per sentence"),
    seed: int = typer.Option(0, "--seed"),
    n_clusters: int = typer.Option(8, "--n-clusters", help="k-means clusters per batch (cluster strategy)"),
    threads: int = typer.Option(2, "--threads", help="llama.cpp threads (--base-url auto)"),
    kb_dir: Path = typer.Option(Path("knowledge/raredis_kb-hpo-2025-01-16"), "--kb-dir",
                                help="Knowledge base of the *_kb strategies (run only when its index is built)"),
):
    paths = sorted(configs_dir.glob("llm_*.cfg"))
    if strategies:
        paths = [p for p in paths if p.stem in strategies or p.stem.replace("llm_", "") in strategies]
    if not (kb_dir / "embeddings.npy").exists() and any(p.stem.endswith(("_kb", "_kb_knn")) for p in paths):
        msg.warn(f"No knowledge-base index in {kb_dir} (spacy project run knowledge knowledge-index): "
                 "the *_kb strategies are not run")
        paths = [p for p in paths if not p.stem.endswith(("_kb", "_kb_knn"))]
    if not paths:
        msg.fail(f"No configs to run in {configs_dir}", exits=1)
    log = Path(tempfile.gettempdir()) / "raredis_llama_server.log"
    server = (running_server(model=gguf, port=free_port(), n_ctx=4096, n_threads=threads, log_file=log)
              if base_url == "auto" else nullcontext(base_url))
    with server as url:
        msg.info(f"Server: {url}" + (f" (log: {log})" if base_url == "auto" else ""))
        for path in paths:
            name = f"openai_{path.stem}"
            out = training_dir / name
            steps = [
                (f"{name}-assemble", ["python", "-m", "spacy", "assemble", str(path), str(out),
                                      "--paths.train", str(corpus_dir / "train.spacy"),
                                      "--paths.train_docs", str(corpus_dir / "docs" / "train.spacy"),
                                      "--components.llm.model.base_url", url,
                                      "--components.llm.model.name", model,
                                      "--components.llm.model.endpoint", endpoint,
                                      "--components.llm.model.max_tokens", str(max_tokens),
                                      *(["--paths.kb", str(kb_dir)] if path.stem.endswith(("_kb", "_kb_knn")) else []),
                                      *(["--components.llm.task.examples.n_clusters", str(n_clusters)]
                                        if "cluster" in path.stem else [])]),
                (f"{name}-evaluate", ["python", "scripts/evaluate.py", str(out), str(corpus_dir / "test.spacy"),
                                      "--system", name, "--output", str(metrics_dir / f"{name}.json"),
                                      "--n-docs", str(n_docs), "--seed", str(seed)]),
            ]
            for step, command in steps:
                if run_timed(metrics_dir, step, command, file="timings_openai.json") != 0:
                    msg.fail(f"{step} failed; finished answers are in the response cache, rerun to resume", exits=1)


if __name__ == "__main__":
    typer.run(main)
