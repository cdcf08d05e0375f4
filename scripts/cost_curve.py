"""Cost curve: micro F1 against prompt tokens per sentence for k few-shot examples, random
and kNN (Xi et al.'s cost-performance analysis), on one seeded sample of test sentences.

    python scripts/cost_curve.py --configs configs --test corpus/test.spacy --output metrics/cost_curve
        [--ks 0,1,2,4,8,16] [--selectors random,knn] [--n-docs 24] [--seed 0]
        [--backend hf|openai] [--base-url auto|URL] [--model NAME] [--endpoint completions|chat]
        [--price-prompt-1k 0] [--price-completion-1k 0] [--bootstrap-n 1000]
        [--paths.train corpus/train.spacy --components.llm.model.batch_size 8 ...]

Extra --section.key value options are spaCy config overrides for every point. Writes
<output>/cost_<selector>_k<k>.json, cost_curve.json, cost_curve.png (and
cost_curve_price.png with prices). --backend openai builds the OpenAI-compatible config
from the same configs; --base-url auto starts a local llama.cpp server on the offline model.
"""

import tempfile
from contextlib import nullcontext
from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides
from wasabi import msg

from raredis_llm.scoring.cost_curve import DEFAULT_KS, SELECTORS, curve_markdown, run_cost_curve
from raredis_llm.scoring.evaluate import load_gold_docs

app = typer.Typer()


def _ints(text: str) -> list:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {text!r}") from None


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    configs_dir: Path = typer.Option(Path("configs"), "--configs", exists=True, file_okay=False),
    test: Path = typer.Option(Path("corpus/test.spacy"), "--test", exists=True, dir_okay=False),
    output: Path = typer.Option(Path("metrics/cost_curve"), "--output", "-o"),
    ks: str = typer.Option(",".join(map(str, DEFAULT_KS)), "--ks", help="Numbers of examples (0: zero-shot)"),
    selectors: str = typer.Option(",".join(SELECTORS), "--selectors", help=f"Among {list(SELECTORS)}"),
    n_docs: int = typer.Option(24, "--n-docs", "-n", help="Test sentences, the same for every point (0: all)"),
    seed: int = typer.Option(0, "--seed"),
    backend: str = typer.Option("hf", "--backend", help="'hf' (configs as they are) or 'openai'"),
    base_url: str = typer.Option("auto", "--base-url", help="openai backend: 'auto' starts a local llama.cpp server"),
    model: str = typer.Option("gemma-3-270m", "--model", help="openai backend: model name sent to the server"),
    endpoint: str = typer.Option("completions", "--endpoint", help="openai backend: 'completions' or 'chat'"),
    gguf: str = typer.Option("offline:gemma-3-270m", "--gguf", help="GGUF for --base-url auto"),
    threads: int = typer.Option(2, "--threads", help="llama.cpp threads (--base-url auto)"),
    price_prompt_1k: float = typer.Option(0.0, "--price-prompt-1k", help="Price per 1k prompt tokens"),
    price_completion_1k: float = typer.Option(0.0, "--price-completion-1k", help="Price per 1k completion tokens"),
    bootstrap_n: int = typer.Option(1000, "--bootstrap-n", help="Bootstrap resamples per interval"),
):
    overrides = parse_config_overrides(ctx.args)
    chosen = [s.strip() for s in selectors.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SELECTORS]
    if unknown:
        msg.fail(f"Unknown selectors {unknown}; expected some of {list(SELECTORS)}", exits=1)
    if backend not in ("hf", "openai"):
        msg.fail(f"--backend must be 'hf' or 'openai', not {backend!r}", exits=1)
    server = nullcontext(None)
    if backend == "openai":
        from raredis_llm.models.llama_server import free_port, running_server

        log = Path(tempfile.gettempdir()) / "raredis_llama_server.log"
        server = (running_server(model=gguf, port=free_port(), n_ctx=8192, n_threads=threads, log_file=log)
                  if base_url == "auto" else nullcontext(base_url))
    gold = load_gold_docs(test)
    with server as url:
        if backend == "openai":
            overrides = {"components.llm.model.base_url": url, "components.llm.model.name": model,
                         "components.llm.model.endpoint": endpoint, **overrides}
        curve = run_cost_curve(configs_dir, gold, output, selectors=chosen, ks=_ints(ks), n_docs=n_docs, seed=seed,
                               backend=backend, overrides=overrides, price_prompt_1k=price_prompt_1k,
                               price_completion_1k=price_completion_1k, n_boot=bootstrap_n, corpus=str(test))
    print(curve_markdown(curve))
    msg.good(f"Wrote {output / 'cost_curve.json'} and {', '.join(curve['charts'])}")


if __name__ == "__main__":
    app()
