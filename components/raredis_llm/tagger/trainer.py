"""Training loop of the LLM tagger: seeded, step-capped, resumable, selected on validation F1.

Layout of the output folder (``training/tagger`` by default)::

    model-best/       spaCy pipeline with the best tagger so far (validation F1)
    model-last/       spaCy pipeline at the last step
    checkpoint/       latest resumable state: lora.safetensors, head.safetensors,
                      optimizer.pt, scheduler.pt, rng.pt, trainer_state.json
    metadata.json     settings, data, steps, time, best step, validation history, dtype

``train(resume=True)`` continues from ``checkpoint/`` with the same data order (planned
from the seed per epoch), optimizer, schedule and RNG state; ``session_steps`` ends a
session early (a checkpoint is written) without changing the schedule. Nothing that decides the
result depends on the clock: the run stops at ``max_steps`` / ``max_epochs`` or by
patience on validation F1; ``max_minutes`` is a loud safety stop only.

The layers below ``model.lora_from`` are frozen, so their output for a sentence never
changes: with ``training.cache_frozen`` (default) it is computed once per training
sentence, in a fixed order, and each step runs only the trained layers on it. Rare labels
can be lifted by ``training.label_weights`` (their tags weigh more in the loss) and
``training.oversample`` (sentences holding them come back several times an epoch).
"""

import logging
import shutil
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch

from ..finetune.metadata import environment_info
from ..finetune.metrics import span_prf
from ..models.precision import resolve_dtype_name, resolve_threads
from ..train_state import (STATE_FILE, TrainerState, make_scheduler, planned_steps, rng_state,
                           safety_stop, set_rng_state, set_seed, stopped_by_time)
from ..util import read_json, seeded_sample, write_dir, write_json
from .data import Item, collate, gold_items, knowledge_annotator, plan_batches
from .settings import TaggerSetup, build_tagger
from .tags import IGNORE, TagSet

logger = logging.getLogger(__name__)

def tag_loss(scores: torch.Tensor, labels: torch.Tensor, weight: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean cross-entropy over the labelled positions (IGNORE elsewhere); with ``weight``
    (one per tag) the weighted mean."""
    return torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), labels.reshape(-1),
                                             weight=weight, ignore_index=IGNORE)


def tag_weights(tags: TagSet, label_weights: Dict[str, float]) -> Optional[torch.Tensor]:
    """Per-tag loss weights: each label's B and I tags weigh ``label_weights[label]``
    (1.0 when not named), O weighs 1.0; None when no label is weighted."""
    if not label_weights:
        return None
    return torch.tensor([label_weights.get(t[2:], 1.0) if t != "O" else 1.0 for t in tags.tags])


def oversampled(items: List[Item], tags: TagSet, factors: Dict[str, int]) -> List[int]:
    """Indices into ``items`` with each item that holds a label of ``factors`` repeated
    (the largest factor among its labels), in order: the training set of one epoch."""
    out: List[int] = []
    for i, item in enumerate(items):
        labels = {tags.tags[t][2:] for t in item.tags if t not in (IGNORE, 0)}
        out.extend([i] * max([factors.get(label, 1) for label in labels] or [1]))
    return out


class TaggerTrainer:
    """Trains the tagger of a :class:`TaggerSetup` (see the module docstring)."""

    def __init__(self, setup: TaggerSetup, log: Callable[[str], None] = print, progress: bool = True):
        self.setup = setup
        self.log = log
        self.progress = progress
        self.out = Path(setup.output_dir)
        self.tags = TagSet(setup.model.labels)
        self.weight = tag_weights(self.tags, setup.training.label_weights)
        self.prefix: Optional[List[torch.Tensor]] = None

    # ------------------------------------------------------------------ set-up
    def _build(self) -> None:
        s = self.setup
        torch.set_num_threads(resolve_threads(s.training.num_threads))
        self.model, self.tokenizer = build_tagger(s.model, s.lora, log=self.log)
        self.nlp, self.features = knowledge_annotator(s.model.knowledge, s.knowledge_path, s.model.knowledge_key,
                                                      s.model.knowledge_labels)
        if self.features is not None:
            self.log(f"Knowledge features: {self.nlp.pipe_names} of {s.knowledge_path} -> "
                     f"doc.spans[{s.model.knowledge_key!r}], {s.model.n_features} columns")
        from .alignment import Encoder

        self.encoder = Encoder(self.tokenizer, s.model.word_piece, s.model.max_length)
        lora = [p for n, p in self.model.named_parameters() if p.requires_grad and "lora_" in n]
        head = list(self.model.head.parameters())
        t = s.training
        self.optimizer = torch.optim.AdamW(
            [{"params": lora, "lr": t.learning_rate}, {"params": head, "lr": t.head_learning_rate}],
            weight_decay=t.weight_decay)

    def _load_data(self) -> None:
        from ..scoring.evaluate import load_gold_docs

        s, t = self.setup, self.setup.training
        all_pieces = t.subtoken_labels == "all"
        train_docs = load_gold_docs(s.train_path, self.nlp)
        self.train_items = gold_items(self.nlp, train_docs, self.encoder, self.tags, s.model.context,
                                      t.projection, all_pieces, self.features)
        self.val_items: List[Item] = []
        if s.validation_path:
            val_docs = load_gold_docs(s.validation_path, self.nlp)
            keep = seeded_sample(len(val_docs), t.eval_n, t.seed)
            self.val_items = gold_items(self.nlp, [val_docs[i] for i in keep], self.encoder, self.tags,
                                        s.model.context, None, features=self.features)
        if t.oversample:
            base = len(self.train_items)
            self.train_items = [self.train_items[i] for i in oversampled(self.train_items, self.tags, t.oversample)]
            self.log(f"Oversampling {t.oversample}: {base} training sentences -> {len(self.train_items)} per epoch")
        self.lengths = [len(it) for it in self.train_items]
        self.prefix = self._frozen_states(self.train_items) if self._caches() else None

    def _caches(self) -> bool:
        """Whether the frozen layers' output can be computed once (see the module docstring):
        there are frozen layers, and nothing random runs in them (no attention dropout)."""
        if not self.setup.training.cache_frozen or self.model.lora_from == 0:
            return False
        dropout = float(getattr(self.model.base.config, "attention_dropout", 0.0) or 0.0)
        if dropout > 0:
            self.log(f"Not caching the frozen layers: the base model's attention dropout is {dropout}")
            return False
        return True

    @torch.no_grad()
    def _frozen_states(self, items: List[Item]) -> List[torch.Tensor]:
        """Each item's output of the frozen layers ``(sub-tokens, hidden)``, in the model's
        dtype, computed in length-sorted batches of a fixed plan (no shuffling)."""
        start = time.perf_counter()
        out: List[Optional[torch.Tensor]] = [None] * len(items)
        # an oversampled item is the same object several times: compute it once
        first: Dict[int, int] = {}
        unique = [i for i, it in enumerate(items) if first.setdefault(id(it), i) == i]
        lengths = [len(items[i]) for i in unique]
        self.model.eval()
        try:
            for batch in plan_batches(lengths, self.setup.training.batch_tokens, 0, 0, bucket=len(unique),
                                      shuffle=False):
                chunk = [items[unique[j]] for j in batch]
                tensors = collate(chunk, self.tokenizer.pad_token_id, self.model.device)
                hidden = self.model.frozen_states(tensors["input_ids"], tensors["attention_mask"])
                for row, j in enumerate(batch):
                    out[unique[j]] = hidden[row, :len(chunk[row])].clone()
        finally:
            self.model.train()
        for i, it in enumerate(items):
            if out[i] is None:
                out[i] = out[first[id(it)]]
        n = sum(out[i].numel() * out[i].element_size() for i in unique)
        self.log(f"Frozen layers 0-{self.model.lora_from - 1} run once for {len(unique)} sentences: "
                 f"{time.perf_counter() - start:.0f} s, {n / 2**20:.0f} MiB kept")
        return out  # type: ignore[return-value]

    def total_steps(self) -> int:
        t = self.setup.training
        return planned_steps(len(plan_batches(self.lengths, t.batch_tokens, t.seed, 0)), t.max_steps, t.max_epochs)

    def _scheduler(self, total: int):
        t = self.setup.training
        return make_scheduler(self.optimizer, t.scheduler, t.warmup_steps, total)

    # ------------------------------------------------------------------ steps
    def batch_loss(self, indices: List[int]) -> torch.Tensor:
        items = [self.train_items[i] for i in indices]
        batch = collate(items, self.tokenizer.pad_token_id, self.model.device)
        prefix = None
        if self.prefix is not None:
            states = [self.prefix[i] for i in indices]
            prefix = torch.zeros((len(items), batch["input_ids"].shape[1], states[0].shape[-1]),
                                 dtype=states[0].dtype, device=self.model.device)
            for row, state in enumerate(states):
                prefix[row, :len(state)] = state
        weight = self.weight.to(self.model.device) if self.weight is not None else None
        if self.setup.training.subtoken_labels == "all":
            hidden = self.model.encode(batch["input_ids"], batch["attention_mask"], prefix=prefix)
            return tag_loss(self.model.head(hidden.float()), batch["piece_labels"], weight)
        scores = self.model(batch["input_ids"], batch["attention_mask"], batch["word_index"],
                            batch.get("word_features"), prefix=prefix)
        return tag_loss(scores, batch["labels"], weight)

    @torch.no_grad()
    def evaluate(self) -> Dict[str, Any]:
        """Word-span F1 on the validation items (exact spans and labels)."""
        from .predict import predict_items

        start = time.perf_counter()
        self.model.eval()
        try:
            pred = predict_items(self.model, self.tokenizer, self.tags, self.val_items,
                                 self.setup.training.batch_tokens)
        finally:
            self.model.train()
        gold = [self.tags.spans([0 if t == IGNORE else t for t in it.tags]) for it in self.val_items]
        out = span_prf(pred, gold)
        return {"val_p": out["p"], "val_r": out["r"], "val_f": out["f"],
                "eval_seconds": time.perf_counter() - start}

    # ------------------------------------------------------------------ saving
    def save_pipeline(self, target: Path) -> None:
        from .component import make_pipeline

        def write(tmp: Path) -> None:
            nlp = make_pipeline(self.setup.model, self.model, self.tokenizer, self.setup.lora,
                                knowledge=self.nlp if self.features is not None else None)
            nlp.to_disk(tmp)

        write_dir(target, write)

    def save_checkpoint(self, state: TrainerState, scheduler) -> None:
        from .component import save_weights

        def write(tmp: Path) -> None:
            save_weights(self.model, tmp)
            torch.save(self.optimizer.state_dict(), tmp / "optimizer.pt")
            torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
            torch.save(rng_state(), tmp / "rng.pt")
            write_json(asdict(state), tmp / STATE_FILE)

        write_dir(self.out / "checkpoint", write)

    # ------------------------------------------------------------------ main loop
    def train(self, resume: bool = True, session_steps: int = 0) -> Dict[str, Any]:
        from .component import load_weights

        s, t = self.setup, self.setup.training
        self.out.mkdir(parents=True, exist_ok=True)
        ckpt = self.out / "checkpoint"
        resuming = resume and (ckpt / STATE_FILE).exists()
        set_seed(t.seed)
        self._build()
        self._load_data()
        total = self.total_steps()
        scheduler = self._scheduler(total)
        state = TrainerState()
        if resuming:
            state = TrainerState(**read_json(ckpt / STATE_FILE))
            load_weights(self.model, ckpt)
            self.optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", weights_only=False))
            scheduler.load_state_dict(torch.load(ckpt / "scheduler.pt", weights_only=False))
            set_rng_state(torch.load(ckpt / "rng.pt", weights_only=False))
            state.stop_reason = None
            self.log(f"Resuming from {ckpt} at step {state.step} (epoch {state.epoch})")
        elif not resume and ckpt.exists():
            shutil.rmtree(ckpt)
        state.sessions += 1
        n_train = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        self.log(f"Training tagger on {s.model.base_model} ({self.model.num_layers} layers, LoRA from "
                 f"{self.model.lora_from}, {s.model.attention}, {n_train:,} trainable parameters, "
                 f"{self.model.dtype}) on {len(self.train_items)} sentences, {total} steps at most, "
                 f"{t.batch_tokens} sub-tokens per batch, {torch.get_num_threads()} threads")
        session_start = time.perf_counter()
        base_elapsed = state.elapsed_s
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=state.step, desc="tagger", unit="step", dynamic_ncols=True)
        batches = plan_batches(self.lengths, t.batch_tokens, t.seed, state.epoch)
        recent: List[float] = []
        first_step = state.step
        self.model.train()
        try:
            while state.step < total:
                if session_steps > 0 and state.step - first_step >= session_steps:
                    state.stop_reason = "session_steps"
                    break
                reason = safety_stop(t.max_minutes, base_elapsed + time.perf_counter() - session_start,
                                     state.step, total, self.log)
                if reason:
                    state.stop_reason = reason
                    break
                if state.batch_in_epoch >= len(batches):
                    state.epoch += 1
                    state.batch_in_epoch = 0
                    batches = plan_batches(self.lengths, t.batch_tokens, t.seed, state.epoch)
                step_start = time.perf_counter()
                indices = batches[state.batch_in_epoch]
                state.batch_in_epoch += 1
                loss = self.batch_loss(indices)
                loss.backward()
                if t.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(
                        [p for p in self.model.parameters() if p.requires_grad], t.max_grad_norm)
                self.optimizer.step()
                scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                state.step += 1
                step_s = time.perf_counter() - step_start
                value = float(loss.detach())
                state.step_times.append(round(step_s, 3))
                state.train_losses.append([state.step, round(value, 5)])
                recent = (recent + [value])[-20:]
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{statistics.mean(recent):.4f}", s_step=f"{step_s:.1f}", refresh=False)
                last = state.step == total
                if self.val_items and t.eval_every > 0 and (state.step % t.eval_every == 0 or last):
                    if self._evaluate_and_track(state, bar):
                        break
                if t.checkpoint_every > 0 and (state.step % t.checkpoint_every == 0 or last):
                    state.elapsed_s = base_elapsed + time.perf_counter() - session_start
                    self.save_checkpoint(state, scheduler)
            else:
                state.stop_reason = "max_steps" if total == t.max_steps else "max_epochs"
        finally:
            if bar is not None:
                bar.close()
        state.elapsed_s = base_elapsed + time.perf_counter() - session_start
        self.save_checkpoint(state, scheduler)
        self.save_pipeline(self.out / "model-last")
        if not self.val_items or not (self.out / "model-best").exists():
            self.save_pipeline(self.out / "model-best")
            state.best_step = state.best_step or state.step
        meta = self.write_metadata(state, total)
        self.log(f"Stopped after {state.step} steps ({state.stop_reason}), {state.elapsed_s / 60:.1f} min; "
                 f"best step {state.best_step}, validation F1 {state.best_metric}")
        return meta

    def _evaluate_and_track(self, state: TrainerState, bar) -> bool:
        result = self.evaluate()
        result["step"] = state.step
        result["train_loss"] = statistics.mean(l for _, l in state.train_losses[-20:])
        state.history.append(result)
        improved = state.best_metric is None or result["val_f"] > state.best_metric
        if improved:
            state.best_metric, state.best_step, state.bad_evals = result["val_f"], state.step, 0
            self.save_pipeline(self.out / "model-best")
        else:
            state.bad_evals += 1
        msg = (f"step {state.step}: val P {result['val_p']:.4f} R {result['val_r']:.4f} F {result['val_f']:.4f} "
               f"loss {result['train_loss']:.4f} ({result['eval_seconds']:.0f} s){' *best*' if improved else ''}")
        (bar.write if bar is not None else self.log)(msg)
        patience = self.setup.training.patience
        if patience > 0 and state.bad_evals >= patience:
            state.stop_reason = "early_stopping"
            return True
        return False

    def write_metadata(self, state: TrainerState, total: int) -> Dict[str, Any]:
        s = self.setup
        dtype, reason = resolve_dtype_name(s.model.dtype, str(self.model.device))
        times = state.step_times
        meta = {
            "base_model": s.model.base_model,
            "model": s.model.to_dict(),
            "lora": s.lora.to_dict(),
            "training": s.training.to_dict(),
            "data": {"train": s.train_path, "validation": s.validation_path, "knowledge": s.knowledge_path,
                     "train_sentences": len(self.train_items), "validation_sentences": len(self.val_items)},
            "steps": state.step, "total_steps": total, "epochs": state.epoch,
            "stop_reason": state.stop_reason, "stopped_by_time": stopped_by_time(state),
            "best_step": state.best_step, "best_val_f": state.best_metric,
            "elapsed_s": round(state.elapsed_s, 1), "sessions": state.sessions,
            "mean_step_s": round(statistics.mean(times), 3) if times else None,
            "history": state.history,
            "train_losses": state.train_losses,
            "dtype": {"name": dtype, "reason": reason},
            "environment": environment_info(),
            "config": s.config_text,
        }
        write_json(meta, self.out / "metadata.json")
        return meta
