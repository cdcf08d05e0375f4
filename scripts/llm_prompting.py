"""Run prompting strategies: assemble each pipeline, score it on the test split.

    python scripts/llm_prompting.py --strategies all --backend hf [--n-docs 200] \
        [--components.llm.model.dtype auto ...]

Each strategy is configs/llm_<strategy>.cfg on the chosen backend (llm/strategies.py):
``hf`` (in-process transformers), ``llamacpp`` (in-process llama.cpp) or ``openai`` (an
OpenAI-compatible server: --base-url auto starts llama.cpp's server on 127.0.0.1, any
other URL is used as it is; OpenAI itself: --base-url https://api.openai.com/v1 --model
gpt-4o --endpoint chat, key in $OPENAI_API_KEY). Config overrides after the options apply
to every strategy whose config has that section. The knowledge-base strategies (rag_kb,
rag_kb_knn) run when named or, with 'all', when --kb-dir is given. Metrics:
<metrics>/<prefix><strategy>.json; step times in <metrics>/<timings>.
"""

import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import List, Optional

import srsly
import typer
from spacy.cli._util import parse_config_overrides
from wasabi import msg

from raredis_llm.llm.strategies import KB_STRATEGIES, available, strategy_config, takes_setting
from raredis_llm.scoring.timings import run_timed

app = typer.Typer(add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    strategies: str = typer.Option("all", help="Comma-separated strategies (configs/llm_<name>.cfg), 'all' (the "
                                   "papers' strategies) or 'all+extra' (with rag_knn and spacy_ner_v3)"),
    backend: str = typer.Option("hf", help="hf, llamacpp or openai"),
    base_url: str = typer.Option("auto", help="openai backend: 'auto' starts a local llama.cpp server"),
    model: str = typer.Option("gemma-3-270m", help="openai backend: model name sent to the server"),
    endpoint: str = typer.Option("completions", help="openai backend: 'completions' (base models) or 'chat'"),
    gguf: str = typer.Option("offline:gemma-3-270m", help="GGUF for --base-url auto"),
    configs_dir: Path = typer.Option(Path("configs"), "--configs"),
    corpus_dir: Path = typer.Option(Path("corpus"), "--corpus-dir"),
    training_dir: Path = typer.Option(Path("training"), "--training-dir"),
    metrics_dir: Path = typer.Option(Path("metrics"), "--metrics-dir"),
    n_docs: int = typer.Option(200, "--n-docs", help="Test sentences per strategy, a shared seeded sample (0: all)"),
    seed: int = typer.Option(0, "--seed"),
    threads: int = typer.Option(0, "--threads", help="llama.cpp server threads (--base-url auto; 0: all cores)"),
    kb_dir: Optional[Path] = typer.Option(None, "--kb-dir", help="Knowledge base of the rag_kb strategies "
                                          "(spacy project run knowledge knowledge-index); 'all' includes them with it"),
):
    names: List[str] = (available(configs_dir, knowledge=kb_dir is not None, extra=strategies == "all+extra")
                        if strategies in ("all", "all+extra") else [s.strip() for s in strategies.split(",")])
    if kb_dir is not None and not (kb_dir / "embeddings.npy").exists() and set(names) & set(KB_STRATEGIES):
        msg.fail(f"No embedding index in {kb_dir}: run `spacy project run knowledge-index` first", exits=1)
    overrides = parse_config_overrides(ctx.args)
    prefix = "" if backend == "hf" else f"{backend}_"
    timings = "timings.json" if backend == "hf" else f"timings_{backend}.json"
    server = nullcontext(base_url)
    if backend == "openai" and base_url == "auto":
        from raredis_llm.models.llama_server import free_port, running_server

        log = Path(tempfile.gettempdir()) / "raredis_llama_server.log"
        server = running_server(model=gguf, port=free_port(), n_ctx=4096, n_threads=threads or None, log_file=log)
    with server as url:
        for strategy in names:
            settings = {"base_url": url, "name": model, "endpoint": endpoint} if backend == "openai" else {}
            config = strategy_config(configs_dir, strategy, backend, model=settings)
            name = f"{prefix}llm_{strategy}"
            out = training_dir / name
            cfg_path = training_dir / f"{name}.cfg"
            cfg_path.parent.mkdir(parents=True, exist_ok=True)
            config.to_disk(cfg_path)
            flags = [x for key, value in overrides.items() if takes_setting(config, key)
                     for x in (f"--{key}", value if isinstance(value, str) else srsly.json_dumps(value))]
            steps = [
                (f"{name}-assemble", ["python", "-m", "spacy", "assemble", str(cfg_path), str(out),
                                      "--paths.train", str(corpus_dir / "train.spacy"),
                                      "--paths.train_docs", str(corpus_dir / "docs" / "train.spacy"),
                                      *(["--paths.kb", str(kb_dir)] if kb_dir and strategy in KB_STRATEGIES else []),
                                      *flags]),
                (f"{name}-evaluate", ["python", "scripts/evaluate.py", str(out), str(corpus_dir / "test.spacy"),
                                      "--system", name, "--output", str(metrics_dir / f"{name}.json"),
                                      "--n-docs", str(n_docs), "--seed", str(seed)]),
            ]
            for step, command in steps:
                if run_timed(metrics_dir, step, command, file=timings) != 0:
                    msg.fail(f"{step} failed; finished answers are in the response cache, rerun to resume", exits=1)


if __name__ == "__main__":
    app()
