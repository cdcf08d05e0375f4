"""Measure one training step three ways on real batches (same model, same batches):

* ``naive``          Hugging Face's loss over full-vocabulary logits for every position;
* ``response_only``  decoder body, LM head on response positions only;
* ``shared_prefix``  as above, and the instruction prefix run once per batch.

Rounds interleave the modes so that load from other processes hits them alike. Reports
wall-clock and process CPU seconds per step (CPU seconds are less sensitive to other
processes when torch runs one thread).
"""

import os
import statistics
import time
from typing import Any, Dict, List, Sequence

import torch

from .data import collate, plan_batches
from .loss import common_prefix_len, full_logits_loss, response_only_loss
from .trainer import LoraTrainer, set_seed

MODES = ("naive", "response_only", "shared_prefix")


def measure_step_times(setup, rounds: int = 3, modes: Sequence[str] = MODES, log=print) -> Dict[str, Any]:
    t = setup.training
    trainer = LoraTrainer(setup, log=log, progress=False)
    set_seed(t.seed)
    trainer._build(None)
    trainer._load_data()
    model, tok = trainer.model, trainer.tokenizer
    batches = plan_batches(trainer.lengths, t.batch_size, t.seed, 0, t.bucket_size)[:rounds]
    results: Dict[str, List[Dict[str, float]]] = {m: [] for m in modes}
    losses: Dict[str, List[float]] = {m: [] for m in modes}
    shapes = []
    for batch_idx in batches:
        feats = [trainer.train_feats[i] for i in batch_idx]
        batch = collate(feats, tok.pad_token_id)
        args = (batch["input_ids"], batch["attention_mask"], batch["labels"])
        prefix = common_prefix_len(*args)
        shapes.append({"rows": int(args[0].shape[0]), "width": int(args[0].shape[1]),
                       "response_tokens": int((args[2][:, 1:] != -100).sum()), "shared_prefix": prefix})
        for mode in modes:
            wall, cpu = time.perf_counter(), time.process_time()
            if mode == "naive":
                loss = full_logits_loss(model, *args)
            elif mode == "response_only":
                loss = response_only_loss(model, *args)
            else:
                loss = response_only_loss(model, *args, shared_prefix_len=prefix)
            loss.backward()
            model.zero_grad(set_to_none=True)  # no optimizer step: every mode sees the same weights
            results[mode].append({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu})
            losses[mode].append(float(loss.detach()))
            log(f"{mode:>14}: {results[mode][-1]['wall']:.1f} s wall, {results[mode][-1]['cpu']:.1f} s CPU, "
                f"loss {losses[mode][-1]:.5f} (load {os.getloadavg()[0]:.1f})")

    def summary(values: List[float]) -> Dict[str, float]:
        return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
                "all": [round(v, 2) for v in values]}

    out: Dict[str, Any] = {
        "modes": {m: {"wall": summary([r["wall"] for r in results[m]]),
                      "cpu": summary([r["cpu"] for r in results[m]]),
                      "loss": losses[m]} for m in modes},
        "batches": shapes,
        "conditions": {
            "model": setup.model.name, "dtype": setup.model.dtype, "threads": torch.get_num_threads(),
            "lora_targets": setup.lora.target_modules, "batch_size": t.batch_size,
            "cpu_count": os.cpu_count(), "load_average_after": list(os.getloadavg()),
        },
    }
    if "naive" in modes:
        base = out["modes"]["naive"]["wall"]["median"]
        out["speedup_vs_naive_wall_median"] = {m: round(base / out["modes"][m]["wall"]["median"], 2)
                                               for m in modes if m != "naive"}
        base = out["modes"]["naive"]["cpu"]["median"]
        out["speedup_vs_naive_cpu_median"] = {m: round(base / out["modes"][m]["cpu"]["median"], 2)
                                              for m in modes if m != "naive"}
    return out
