"""The LoRA training loop: response-only loss, validation, early stopping, resume.

Layout of the output folder (``training/lora`` by default)::

    adapter/          best adapter so far (PEFT files + raredis_finetune.json)
    checkpoint/       latest resumable state: adapter/, optimizer.pt, scheduler.pt,
                      rng.pt, trainer_state.json (written every ``checkpoint_every`` steps)
    metadata.json     base model id + weight hashes, data hashes, hyper-parameters,
                      steps, time, best step, metrics history, step times, environment

``train(setup, resume=True)`` continues from ``checkpoint/`` when it exists: same data
order (planned from the seed per epoch), same optimizer/scheduler/RNG state, same step
count. Training stops by steps or epochs, so the same commit and seed give the same
adapter on any machine; ``max_minutes`` is only a safety stop, and a run it stops is
marked (``stopped_by_time`` in the metadata and the adapter record, a warning in the log).
"""

import logging
import math
import shutil
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

from ..models.offline import resolve_model
from ..models.precision import resolve_dtype_name, resolve_threads
from ..models.engine import Constraint
from ..models.transformers_engine import TransformersEngine
from ..ner.budget import answer_budget
from ..ner.finetuned import ADAPTER_INFO, STOP, adapter_info
from ..train_state import (STATE_FILE, TrainerState, make_scheduler, planned_steps, rng_state,
                           safety_stop, set_rng_state, set_seed, stopped_by_time)
from ..util import file_sha256, read_json, seeded_sample, write_dir, write_json
from .data import Feature, collate, encode_records, plan_batches
from .instructions import read_jsonl
from .lora import attach_lora, count_parameters, load_base
from .loss import IGNORE_INDEX, common_prefix_len, response_only_loss
from .metadata import base_model_info, environment_info
from .metrics import span_prf
from .settings import FinetuneSetup

logger = logging.getLogger(__name__)

class LoraTrainer:
    """Fine-tunes a LoRA adapter on instruction records (see the module docstring)."""

    def __init__(self, setup: FinetuneSetup, log: Callable[[str], None] = print, progress: bool = True):
        self.setup = setup
        self.log = log
        self.progress = progress
        self.out = Path(setup.output_dir)
        self.model = None
        self.tokenizer = None

    # ------------------------------------------------------------------ data
    def _load_data(self):
        s = self.setup
        self.train_records = read_jsonl(s.train_path)
        self.val_records = read_jsonl(s.validation_path) if s.validation_path else []
        if not self.train_records:
            raise ValueError(f"{s.train_path}: no training records")
        tl = s.training.max_length
        feats = encode_records(self.train_records, s.prompt, self.tokenizer)
        self.train_feats = [f for f in feats if len(f) <= tl]
        self.n_too_long = len(feats) - len(self.train_feats)
        if self.n_too_long:
            longest = max(len(f) for f in feats)
            self.log(f"Skipping {self.n_too_long} of {len(feats)} training records longer than "
                     f"max_length={tl} tokens (longest: {longest})")
        if not self.train_feats:
            raise ValueError(f"{s.train_path}: every record is longer than max_length={tl} tokens")
        ev = s.evaluation
        n_val = len(self.val_records)
        self.loss_idx = seeded_sample(n_val, ev.loss_examples, s.training.seed) if ev.loss_examples > 0 else []
        self.f1_idx = seeded_sample(n_val, ev.f1_examples, s.training.seed + 1) if ev.f1_examples > 0 else []
        self.val_feats = {i: f for i, f in zip(
            self.loss_idx, encode_records([self.val_records[i] for i in self.loss_idx], s.prompt, self.tokenizer))}
        self.lengths = [len(f) for f in self.train_feats]

    # ------------------------------------------------------------------ model
    def _build(self, adapter_dir: Optional[str]):
        s = self.setup
        torch.set_num_threads(resolve_threads(s.training.num_threads))
        self.resolved_base = resolve_model(s.model.name, log=self.log)
        base, self.tokenizer = load_base(s.model, log=self.log)
        self.model = attach_lora(base, s.lora, adapter_dir, s.model.gradient_checkpointing)
        self.device = next(self.model.parameters()).device
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=s.training.learning_rate,
                                           weight_decay=s.training.weight_decay)

    def total_steps(self) -> int:
        t = self.setup.training
        per_epoch = math.ceil(len(self.train_feats) / t.batch_size / t.grad_accum)
        return planned_steps(per_epoch, t.max_steps, t.max_epochs)

    def _scheduler(self, total: int):
        t = self.setup.training
        return make_scheduler(self.optimizer, t.scheduler, t.warmup_steps, total)

    # ------------------------------------------------------------------ loss
    def batch_loss(self, feats: Sequence[Feature], reduction: str = "mean") -> torch.Tensor:
        batch = collate(feats, self.tokenizer.pad_token_id)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        prefix = 0
        if self.setup.training.share_prefix:
            prefix = common_prefix_len(batch["input_ids"], batch["attention_mask"], batch["labels"])
        return response_only_loss(self.model, batch["input_ids"], batch["attention_mask"], batch["labels"],
                                  shared_prefix_len=prefix, reduction=reduction)

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self) -> Dict[str, Any]:
        s, ev = self.setup, self.setup.evaluation
        out: Dict[str, Any] = {}
        start = time.perf_counter()
        self.model.eval()
        try:
            if self.loss_idx:
                feats = [self.val_feats[i] for i in self.loss_idx]
                feats.sort(key=len)
                total, n_tok = 0.0, 0
                for i in range(0, len(feats), ev.batch_size):
                    chunk = feats[i:i + ev.batch_size]
                    total += float(self.batch_loss(chunk, reduction="sum"))
                    n_tok += sum(sum(1 for x in f.labels[1:] if x != IGNORE_INDEX) for f in chunk)
                out["val_loss"] = total / max(1, n_tok)
            if self.f1_idx:
                records = [self.val_records[i] for i in self.f1_idx]
                engine = TransformersEngine.from_model(self.model, self.tokenizer, batch_size=ev.batch_size)
                fmt = s.prompt.format
                prompts = [s.prompt.prompt(r["input"], instruction=r.get("instruction")) for r in records]
                budgets = [answer_budget(engine.count_tokens(fmt.answer_reference(r["input"])),
                                         ratio=ev.max_new_tokens_factor) for r in records]
                glue = tuple(fmt.constraint_strings(s.prompt.labels))
                constraints = [Constraint((r["input"],), glue) if ev.constrain else None for r in records]
                answers = engine.generate(prompts, budgets, stop=STOP, constraints=constraints)
                preds, golds = [], []
                parse_dropped = 0
                for r, answer in zip(records, answers):
                    spans, stats = s.prompt.parse(r["input"], answer)
                    gold, _ = s.prompt.parse(r["input"], r["output"])
                    preds.append(spans)
                    golds.append(gold)
                    parse_dropped += sum(stats["dropped"].values())
                prf = span_prf(preds, golds)
                out.update({"val_p": prf["p"], "val_r": prf["r"], "val_f": prf["f"],
                            "val_per_label": prf["per_label"], "val_parse_dropped": parse_dropped,
                            "val_sample_answer": str(answers[0])[:300] if answers else ""})
        finally:
            self.model.train()
        out["eval_seconds"] = time.perf_counter() - start
        return out

    def _metric(self, result: Dict[str, Any]) -> float:
        """Higher is better."""
        if self.setup.evaluation.metric == "f1":
            return float(result["val_f"])
        return -float(result["val_loss"])

    # ------------------------------------------------------------------ saving
    def _adapter_info(self, state: Optional[TrainerState] = None) -> Dict[str, Any]:
        s = self.setup
        extra: Dict[str, Any] = {"trained": True}
        if state is not None:
            extra.update(steps=state.step, stopped_by_time=stopped_by_time(state))
        return adapter_info(s.prompt, s.model.name, s.lora.to_dict(), **extra)

    def save_adapter(self, target: Path) -> None:
        def write(tmp: Path) -> None:
            self.model.save_pretrained(str(tmp))
            write_json(self._adapter_info(), tmp / ADAPTER_INFO)

        write_dir(target, write)

    def save_checkpoint(self, state: TrainerState, scheduler) -> None:
        def write(tmp: Path) -> None:
            self.model.save_pretrained(str(tmp / "adapter"))
            write_json(self._adapter_info(), tmp / "adapter" / ADAPTER_INFO)
            torch.save(self.optimizer.state_dict(), tmp / "optimizer.pt")
            torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
            torch.save(rng_state(), tmp / "rng.pt")
            write_json(asdict(state), tmp / STATE_FILE)

        write_dir(self.out / "checkpoint", write)

    # ------------------------------------------------------------------ main loop
    def train(self, resume: bool = True) -> Dict[str, Any]:
        s, t, ev = self.setup, self.setup.training, self.setup.evaluation
        self.out.mkdir(parents=True, exist_ok=True)
        ckpt = self.out / "checkpoint"
        resuming = resume and (ckpt / STATE_FILE).exists()
        set_seed(t.seed)
        self._build(str(ckpt / "adapter") if resuming else None)
        self._load_data()
        total = self.total_steps()
        scheduler = self._scheduler(total)
        state = TrainerState()
        if resuming:
            state = TrainerState(**read_json(ckpt / STATE_FILE))
            self.optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", weights_only=False))
            scheduler.load_state_dict(torch.load(ckpt / "scheduler.pt", weights_only=False))
            set_rng_state(torch.load(ckpt / "rng.pt", weights_only=False))
            state.stop_reason = None
            self.log(f"Resuming from {ckpt} at step {state.step} (epoch {state.epoch})")
        elif resume is False and ckpt.exists():
            shutil.rmtree(ckpt)
        state.sessions += 1
        params = count_parameters(self.model)
        self.log(f"Training {s.model.name} + LoRA ({params['trainable']:,} trainable of "
                 f"{params['total']:,} parameters) on {len(self.train_feats)} records, "
                 f"{total} steps at most, batch {t.batch_size}x{t.grad_accum}, "
                 f"{torch.get_num_threads()} threads, device {self.device}")
        session_start = time.perf_counter()
        base_elapsed = state.elapsed_s

        def elapsed() -> float:
            return base_elapsed + time.perf_counter() - session_start

        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=state.step, desc="lora", unit="step", dynamic_ncols=True)
        batches = plan_batches(self.lengths, t.batch_size, t.seed, state.epoch, t.bucket_size)
        recent: List[float] = []
        self.model.train()
        try:
            while state.step < total:
                reason = safety_stop(t.max_minutes, elapsed(), state.step, total, self.log)
                if reason:
                    state.stop_reason = reason
                    break
                step_start = time.perf_counter()
                group: List[List[Feature]] = []
                while len(group) < t.grad_accum:
                    if state.batch_in_epoch >= len(batches):
                        state.epoch += 1
                        state.batch_in_epoch = 0
                        batches = plan_batches(self.lengths, t.batch_size, t.seed, state.epoch, t.bucket_size)
                    group.append([self.train_feats[i] for i in batches[state.batch_in_epoch]])
                    state.batch_in_epoch += 1
                n_tokens = sum(sum(1 for x in f.labels[1:] if x != IGNORE_INDEX) for g in group for f in g)
                loss_sum = 0.0
                for feats in group:
                    loss = self.batch_loss(feats, reduction="sum") / max(1, n_tokens)
                    loss.backward()
                    loss_sum += float(loss.detach())
                if t.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(
                        [p for p in self.model.parameters() if p.requires_grad], t.max_grad_norm)
                self.optimizer.step()
                scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                state.step += 1
                step_s = time.perf_counter() - step_start
                state.step_times.append(round(step_s, 3))
                state.train_losses.append([state.step, round(loss_sum, 5)])
                recent = (recent + [loss_sum])[-20:]
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{statistics.mean(recent):.4f}", lr=f"{scheduler.get_last_lr()[0]:.1e}",
                                    s_step=f"{step_s:.1f}", refresh=False)
                do_eval = ev.every > 0 and (state.step % ev.every == 0 or state.step == total)
                if do_eval and (self.loss_idx or self.f1_idx):
                    if self._evaluate_and_track(state, bar):
                        break
                if t.checkpoint_every > 0 and state.step % t.checkpoint_every == 0:
                    state.elapsed_s = elapsed()
                    self.save_checkpoint(state, scheduler)
            else:
                state.stop_reason = "max_steps" if total == t.max_steps else "max_epochs"
            # a final evaluation when the last step was not evaluated
            evaluated_last = state.history and state.history[-1]["step"] == state.step
            if (self.loss_idx or self.f1_idx) and not evaluated_last and state.step > 0 \
                    and state.stop_reason != "early_stopping":
                self._evaluate_and_track(state, bar)
        finally:
            if bar is not None:
                bar.close()
        state.elapsed_s = elapsed()
        if state.step > 0:
            self.save_checkpoint(state, scheduler)
        if not (self.out / "adapter").exists() or not (self.loss_idx or self.f1_idx):
            self.save_adapter(self.out / "adapter")
            if state.best_step is None:
                state.best_step = state.step
        # the adapter records how the run ended (a safety stop by time marks it)
        write_json(dict(self._adapter_info(state), best_step=state.best_step), self.out / "adapter" / ADAPTER_INFO)
        meta = self.write_metadata(state, total)
        self.log(f"Stopped after {state.step} steps ({state.stop_reason}), {state.elapsed_s / 60:.1f} min; "
                 f"best step {state.best_step}, best {ev.metric} {state.best_metric}")
        return meta

    def _evaluate_and_track(self, state: TrainerState, bar) -> bool:
        """Evaluate, keep the best adapter; True when early stopping says stop."""
        ev = self.setup.evaluation
        result = self.evaluate()
        result["step"] = state.step
        result["train_loss"] = statistics.mean(l for _, l in state.train_losses[-20:]) if state.train_losses else None
        state.history.append(result)
        metric = self._metric(result)
        improved = state.best_metric is None or metric > state.best_metric
        if improved:
            state.best_metric, state.best_step, state.bad_evals = metric, state.step, 0
            self.save_adapter(self.out / "adapter")
        else:
            state.bad_evals += 1
        msg = f"step {state.step}: " + ", ".join(
            f"{k}={v:.4f}" for k, v in result.items() if k.startswith("val_") and isinstance(v, float))
        msg += f" ({result['eval_seconds']:.0f} s){' *best*' if improved else ''}"
        (bar.write if bar is not None else self.log)(msg)
        if ev.patience > 0 and state.bad_evals >= ev.patience:
            state.stop_reason = "early_stopping"
            return True
        return False

    def precision(self) -> Dict[str, Any]:
        """The dtype the weights were trained in and why ("auto" resolves per machine)."""
        device = str(self.device)
        name, reason = resolve_dtype_name(self.setup.model.dtype, device)
        actual = str(next(self.model.parameters()).dtype).replace("torch.", "")
        return {"configured": self.setup.model.dtype, "dtype": actual, "reason": reason}

    def write_metadata(self, state: TrainerState, total: int) -> Dict[str, Any]:
        s = self.setup
        times = state.step_times
        best = next((h for h in state.history if h["step"] == state.best_step), None)
        meta = {
            "base_model": base_model_info(s.model.name, self.resolved_base),
            "adapter": str(self.out / "adapter"),
            "stopped_by_time": stopped_by_time(state),
            "data": {
                "train": {"path": s.train_path, "sha256": file_sha256(s.train_path), "records": len(self.train_records),
                          "skipped_too_long": self.n_too_long},
                "validation": {"path": s.validation_path,
                               "sha256": file_sha256(s.validation_path) if s.validation_path else None,
                               "records": len(self.val_records), "loss_sample": len(self.loss_idx),
                               "f1_sample": len(self.f1_idx)},
            },
            "hyperparameters": s.hyperparameters(),
            "parameters": count_parameters(self.model),
            "precision": self.precision(),
            "steps": state.step,
            "planned_steps": total,
            "epochs_started": state.epoch + 1,
            "seconds": round(state.elapsed_s, 1),
            "sessions": state.sessions,
            "stop_reason": state.stop_reason,
            "best_step": state.best_step,
            "best_metric": {"name": s.evaluation.metric, "value": state.best_metric},
            "best_metrics": best,
            "history": state.history,
            "train_loss": state.train_losses,
            "step_seconds": {
                "mean": round(statistics.mean(times), 3) if times else None,
                "median": round(statistics.median(times), 3) if times else None,
                "min": min(times) if times else None,
            },
            "environment": environment_info(),
        }
        write_json(meta, self.out / "metadata.json")
        return meta


def train(setup: FinetuneSetup, resume: bool = True, log: Callable[[str], None] = print,
          progress: bool = True) -> Dict[str, Any]:
    """Fine-tune as configured; returns the metadata written to ``metadata.json``."""
    return LoraTrainer(setup, log=log, progress=progress).train(resume=resume)
