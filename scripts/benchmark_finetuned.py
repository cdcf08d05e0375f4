"""Speed of the fine-tuned LLM component on CPU: batched vs one sentence at a time.

    python scripts/benchmark_finetuned.py training/raredis_llm_ner --test corpus/test.spacy --n 64

Runs the pipeline over a seeded sample of test sentences twice: batched (all sentences
through `nlp.pipe`, the component generating `--batch-size` sentences at a time) and
unbatched (one `nlp(text)` call per sentence, component batch size 1). Prints and writes
words/s, sentences/s, seconds, whether both runs predicted the same entities, and the
conditions (threads, dtype, load average) to metrics/benchmark_finetuned.json.
"""

import json
import os
import random
import time
from pathlib import Path
from typing import Optional

import spacy
import typer
from spacy.tokens import DocBin

import raredis_llm.pipeline  # noqa: F401  (registers the factory)

app = typer.Typer(add_completion=False)


def _run(nlp, texts, batched: bool):
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=len(texts))) if batched else [nlp(t) for t in texts]
    return docs, time.perf_counter() - start


@app.command()
def main(
    pipeline: Path = typer.Argument(..., help="Pipeline folder or package name"),
    test: Path = typer.Option(Path("corpus/test.spacy"), help="Sentence-level test DocBin"),
    n: int = typer.Option(64, help="Sentences in the seeded sample"),
    batch_size: int = typer.Option(16, help="Component generation batch size for the batched run"),
    threads: int = typer.Option(0, help="torch CPU threads (0: torch's default)"),
    dtype: Optional[str] = typer.Option(None, help="Override the component dtype (float32, bfloat16)"),
    merge_adapter: bool = typer.Option(True, help="Merge the LoRA weights at load"),
    output: Path = typer.Option(Path("metrics/benchmark_finetuned.json"), help="Where to write the results"),
    seed: int = typer.Option(0),
):
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    config = {"device": "cpu", "merge_adapter": merge_adapter}
    if dtype:
        config["dtype"] = dtype
    nlp = spacy.load(pipeline, config={"components": {"raredis_llm_ner": config}})
    ner = nlp.get_pipe("raredis_llm_ner")
    load_start = time.perf_counter()
    ner.load()
    load_s = time.perf_counter() - load_start
    gold = list(DocBin().from_disk(test).get_docs(nlp.vocab))
    picked = sorted(random.Random(seed).sample(range(len(gold)), min(n, len(gold))))
    texts = [gold[i].text for i in picked]
    n_words = sum(1 for i in picked for t in gold[i] if not t.is_space)
    results = {}
    ents = {}
    for mode in ("batched", "unbatched"):
        ner.batch_size = batch_size if mode == "batched" else 1
        docs, seconds = _run(nlp, texts, batched=mode == "batched")
        ents[mode] = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs]
        tokens = sum(d.user_data.get("raredis_llm_usage", {}).get("completion_tokens", 0) for d in docs)
        results[mode] = {
            "seconds": round(seconds, 2),
            "words_per_second": round(n_words / seconds, 2),
            "sentences_per_second": round(len(texts) / seconds, 3),
            "completion_tokens": tokens,
            "batch_size": ner.batch_size,
        }
        typer.echo(f"{mode:>9}: {n_words} words in {seconds:.1f} s = {n_words / seconds:.1f} words/s "
                   f"({len(texts) / seconds:.2f} sentences/s, batch {ner.batch_size})")
    out = {
        "pipeline": str(pipeline),
        "base_model": ner.base_model,
        "sentences": len(texts),
        "words": n_words,
        "test": str(test),
        "seed": seed,
        "load_seconds": round(load_s, 1),
        "runs": results,
        "speedup_batched": round(results["unbatched"]["seconds"] / results["batched"]["seconds"], 2),
        "same_entities": ents["batched"] == ents["unbatched"],
        "conditions": {
            "device": "cpu",
            "dtype": ner.dtype,
            "merge_adapter": merge_adapter,
            "torch_threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "load_average_after": list(os.getloadavg()),
            "torch": torch.__version__,
        },
    }
    typer.echo(f"batched is {out['speedup_batched']}x faster; same entities: {out['same_entities']}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(out, indent=2))
    typer.echo(f"Wrote {output}")


if __name__ == "__main__":
    app()
