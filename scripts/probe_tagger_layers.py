"""Linear probes per decoder layer: which layers of the base LLM carry the entities.

    python scripts/probe_tagger_layers.py configs/tagger_cpu.cfg --n-train 800 --n-val 300 \
        --layers 2,4,6,8,10,12,14,16,18 --output metrics/tagger_layer_probe.json
    # each layer also with the dictionary's matches as features (what they add):
    python scripts/probe_tagger_layers.py configs/tagger_cpu.cfg --model.knowledge true \
        --paths.knowledge training/dictionary --layers 12
"""

import json
import time
from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides

app = typer.Typer(add_completion=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="Tagger config (its [model] and [paths] are used)"),
    n_train: int = typer.Option(800, help="Training sentences (seeded sample)"),
    n_val: int = typer.Option(300, help="Validation sentences (seeded sample)"),
    layers: str = typer.Option("2,4,6,8,10,12,14,16,18", help="Layers to probe (1-based outputs)"),
    output: Path = typer.Option(Path("metrics/tagger_layer_probe.json")),
    seed: int = typer.Option(0),
):
    import torch

    from raredis_llm.models.precision import resolve_threads
    from raredis_llm.scoring.evaluate import load_gold_docs
    from raredis_llm.tagger.alignment import Encoder
    from raredis_llm.tagger.data import gold_items, knowledge_annotator
    from raredis_llm.tagger.probe import layer_features, probe_layer
    from raredis_llm.tagger.settings import build_tagger, load_setup
    from raredis_llm.tagger.tags import TagSet
    from raredis_llm.util import seeded_sample

    setup = load_setup(config, parse_config_overrides(ctx.args))
    torch.set_num_threads(resolve_threads(setup.training.num_threads))
    wanted = [int(x) for x in layers.split(",")]
    setup.model.attention = "causal"
    setup.model.num_layers = max(wanted)
    setup.model.lora_from = 0  # frozen, no LoRA: any layer may be probed
    model, tokenizer = build_tagger(setup.model, None)
    nlp, features = knowledge_annotator(setup.model.knowledge, setup.knowledge_path, setup.model.knowledge_key,
                                        setup.model.knowledge_labels)
    tags = TagSet(setup.model.labels)
    encoder = Encoder(tokenizer, setup.model.word_piece, setup.model.max_length)
    train_docs = load_gold_docs(setup.train_path, nlp)
    val_docs = load_gold_docs(setup.validation_path, nlp)
    train_docs = [train_docs[i] for i in seeded_sample(len(train_docs), n_train, seed)]
    val_docs = [val_docs[i] for i in seeded_sample(len(val_docs), n_val, seed)]
    train_items = gold_items(nlp, train_docs, encoder, tags, setup.model.context, features=features)
    val_items = gold_items(nlp, val_docs, encoder, tags, setup.model.context, features=features)
    start = time.perf_counter()
    train_x = layer_features(model, tokenizer, train_items, wanted)
    val_x = layer_features(model, tokenizer, val_items, wanted)
    feature_s = time.perf_counter() - start
    rows, with_knowledge = {}, {}
    for layer in wanted:
        rows[layer] = probe_layer(train_x[layer], train_items, val_x[layer], val_items, tags, seed=seed)
        line = f"layer {layer:2d}: P {rows[layer]['p']:.3f} R {rows[layer]['r']:.3f} F {rows[layer]['f']:.3f}"
        if features is not None:
            k = with_knowledge[layer] = probe_layer(train_x[layer], train_items, val_x[layer], val_items, tags,
                                                    seed=seed, knowledge=True)
            line += f"; with knowledge features P {k['p']:.3f} R {k['r']:.3f} F {k['f']:.3f}"
        typer.echo(line)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"config": str(config), "word_piece": setup.model.word_piece,
                                  "context": setup.model.context, "n_train": len(train_items),
                                  "n_val": len(val_items), "feature_seconds": round(feature_s, 1),
                                  "layers": rows, "knowledge": setup.knowledge_path,
                                  "layers_with_knowledge": with_knowledge or None}, indent=2))
    typer.echo(f"Wrote {output}")


if __name__ == "__main__":
    app()
