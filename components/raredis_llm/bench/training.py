"""LoRA training speed: sentences per second of a recipe (prompt, answer format, which
layers train) in a dtype, on the same batches of the training split.

Each row builds the trainer of a fine-tuning config with overrides, runs ``warmup`` steps
that are not timed, then times ``steps`` optimizer steps of real batches (forward,
backward, optimizer). Rows are compared to the first (today's recipe before this
benchmark's levers) as ``speedup`` ratios.
"""

import gc
import statistics
import time
from typing import Any, Callable, Dict, List, Optional

import torch

#: The recipe the CPU profile used before the engine work: the Alpaca prompt with the
#: format's rules, inline answers (the sentence copied with tags), LoRA on every layer.
BEFORE = {"prompt.prompt_style": "alpaca", "prompt.output_format": "inline", "lora.layers_to_transform": None}


def time_recipe(config_path: str, overrides: Dict[str, Any], records: str, steps: int = 4, warmup: int = 1,
                log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Median seconds per step and sentences/s of one recipe (``overrides`` on the config)."""
    from ..finetune.data import encode_records, plan_batches
    from ..finetune.instructions import read_jsonl
    from ..finetune.settings import load_setup
    from ..finetune.trainer import LoraTrainer, set_seed
    from ..ner.finetuned import FinetunePrompt

    setup = load_setup(config_path, dict(overrides, **{"paths.train": records, "paths.validation": records}))
    trainer = LoraTrainer(setup, log=lambda *_: None, progress=False)
    set_seed(setup.training.seed)
    trainer._build(None)
    prompt: FinetunePrompt = setup.prompt
    # the records are rendered again with this recipe's prompt and format
    raw = read_jsonl(records)
    from ..ner.formats import get_format

    source_fmt = get_format(_format_of(raw))
    recs = []
    for r in raw:
        spans, _ = source_fmt.parse(r["input"], r["output"], prompt.labels)
        recs.append({"instruction": prompt.instruction, "input": r["input"],
                     "output": prompt.render_answer(r["input"], spans)})
    feats = encode_records(recs, prompt, trainer.tokenizer)
    t = setup.training
    batches = plan_batches([len(f) for f in feats], t.batch_size, t.seed, 0, t.bucket_size)[: warmup + steps]
    times: List[float] = []
    tokens = 0
    for n, batch in enumerate(batches):
        group = [feats[i] for i in batch]
        start = time.perf_counter()
        loss = trainer.batch_loss(group, reduction="mean")
        loss.backward()
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
        if n >= warmup:
            times.append(time.perf_counter() - start)
            tokens += sum(len(f) for f in group)
    median = statistics.median(times)
    row = {"overrides": overrides, "dtype": str(next(trainer.model.parameters()).dtype).replace("torch.", ""),
           "threads": torch.get_num_threads(), "batch_size": t.batch_size, "steps_timed": len(times),
           "seconds_per_step": round(median, 3), "sentences_per_second": round(t.batch_size / median, 3),
           "tokens_per_step": round(tokens / max(1, len(times)), 1)}
    del trainer
    gc.collect()
    return row


def _format_of(records: List[Dict[str, str]]) -> str:
    """The answer format the instruction records were written in (from the instruction)."""
    instruction = records[0].get("instruction", "")
    for name in ("lines", "inline", "json", "bio"):
        if f"({name} format)" in instruction:
            return name
    return "inline"


def compare_recipes(config_path: str, records: str, dtypes: List[str], native_bf16: bool, steps: int = 4,
                    log: Callable[[str], None] = print, limit: Optional[int] = 400) -> Dict[str, Any]:
    """Today's recipe vs the configured one, in each dtype worth timing on this CPU."""
    import tempfile
    from pathlib import Path

    from ..finetune.instructions import read_jsonl
    from ..util import write_text
    import srsly

    sample = read_jsonl(records)[: limit or None]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        write_text("".join(srsly.json_dumps(r) + "\n" for r in sample), path)
        rows = []
        for name, overrides in [("before (alpaca prompt, inline, all layers)", dict(BEFORE, **{"model.dtype": "auto"}))] + [
                (f"configured recipe, {dtype}", {"model.dtype": dtype}) for dtype in dtypes]:
            if "bfloat16" in name and not native_bf16:
                rows.append({"recipe": name, "skipped": "no native bf16 on this CPU: bf16 steps run in slow kernels"})
                log(f"{name:>44}: skipped (no native bf16)")
                continue
            row = dict(time_recipe(config_path, overrides, str(path), steps=steps, log=log), recipe=name)
            rows.append(row)
            log(f"{name:>44}: {row['sentences_per_second']:.2f} sentences/s ({row['seconds_per_step']:.2f} s/step, "
                f"{row['dtype']})")
    base = next(r for r in rows if "sentences_per_second" in r)
    for row in rows:
        if "sentences_per_second" in row:
            row["speedup_vs_before"] = round(row["sentences_per_second"] / base["sentences_per_second"], 2)
    return {"rows": rows}
