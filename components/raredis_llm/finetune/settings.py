"""Fine-tuning settings and the ``.cfg`` files that hold them.

A fine-tuning config (``configs/finetune_cpu.cfg``, ``configs/finetune_gpu.cfg``) has
the sections ``[paths]`` (``train``, ``validation``, ``output``), ``[prompt]``
(``raredis.FinetunePrompt.v1``), ``[model]`` (``raredis.LoraBaseModel.v1``), ``[lora]``
(``raredis.LoraAdapter.v1``), ``[training]`` (``raredis.LoraTraining.v1``) and
``[evaluation]`` (``raredis.LoraEvaluation.v1``). Every value can be overridden on the
command line (``--training.max_steps 10``), as with ``spacy train``.
"""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from spacy.util import load_config, registry

from ..labels import LABELS
from ..models.lora_settings import LoraSettings
from ..ner.finetuned import FinetunePrompt
from .lora import BaseModelSettings


@dataclass
class TrainingSettings:
    seed: int = 0
    batch_size: int = 8
    grad_accum: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 10
    scheduler: str = "linear"
    max_steps: int = 200
    max_epochs: float = 3.0
    #: safety stop by wall clock (0 = none): training stops by steps/epochs; a run this
    #: stops is marked in its metadata and adapter record
    max_minutes: float = 0.0
    max_length: int = 384
    #: torch CPU threads (0 = leave torch's default)
    num_threads: int = 0
    #: run the instruction prefix shared by a batch once (exact; see finetune/loss.py)
    share_prefix: bool = True
    #: sort by length inside chunks of this many batches (less padding)
    bucket_size: int = 50
    checkpoint_every: int = 25
    max_grad_norm: float = 1.0

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class EvaluationSettings:
    every: int = 50
    #: validation records for the loss (0 = no validation loss)
    loss_examples: int = 64
    #: validation records generated and parsed for entity F1 (0 = no F1)
    f1_examples: int = 32
    batch_size: int = 8
    #: "f1" or "loss": what early stopping and the best adapter follow
    metric: str = "f1"
    #: evaluations without improvement before stopping (0 = never stop early)
    patience: int = 3
    #: generation budget per sentence = factor * answer-reference tokens + 48 (ner/budget.py)
    max_new_tokens_factor: float = 2.0
    #: constrained decoding, as the raredis_llm_ner component does by default
    constrain: bool = True

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@registry.misc("raredis.FinetunePrompt.v1")
def make_finetune_prompt(
    output_format: str = "inline",
    labels: List[str] = list(LABELS),
    instruction_template: Optional[str] = None,
    prompt_template: Optional[str] = None,
    prompt_style: str = "short",
) -> FinetunePrompt:
    """Prompt + output format of a fine-tuned model: ``prompt_style`` "short" (a few words
    of instruction) or "alpaca" (the Stanford Alpaca prompt with the format's rules), or
    template files (see :class:`raredis_llm.ner.finetuned.FinetunePrompt`)."""
    return FinetunePrompt(output_format, labels, instruction_template, prompt_template, prompt_style)


@registry.misc("raredis.LoraTraining.v1")
def make_training_settings(
    seed: int = 0,
    batch_size: int = 8,
    grad_accum: int = 1,
    learning_rate: float = 2e-4,
    weight_decay: float = 0.0,
    warmup_steps: int = 10,
    scheduler: str = "linear",
    max_steps: int = 200,
    max_epochs: float = 3.0,
    max_minutes: float = 0.0,
    max_length: int = 384,
    num_threads: int = 0,
    share_prefix: bool = True,
    bucket_size: int = 50,
    checkpoint_every: int = 25,
    max_grad_norm: float = 1.0,
) -> TrainingSettings:
    """Optimisation, stopping caps (steps, epochs, minutes) and checkpointing."""
    if scheduler not in ("linear", "cosine", "constant"):
        raise ValueError(f"scheduler must be linear, cosine or constant, not {scheduler!r}")
    return TrainingSettings(seed, batch_size, grad_accum, learning_rate, weight_decay, warmup_steps,
                            scheduler, max_steps, max_epochs, max_minutes, max_length, num_threads,
                            share_prefix, bucket_size, checkpoint_every, max_grad_norm)


@registry.misc("raredis.LoraEvaluation.v1")
def make_evaluation_settings(
    every: int = 50,
    loss_examples: int = 64,
    f1_examples: int = 32,
    batch_size: int = 8,
    metric: str = "f1",
    patience: int = 3,
    max_new_tokens_factor: float = 2.0,
    constrain: bool = True,
) -> EvaluationSettings:
    """Validation during training: loss, generated entity F1, early stopping."""
    if metric not in ("f1", "loss"):
        raise ValueError(f"metric must be 'f1' or 'loss', not {metric!r}")
    if metric == "f1" and f1_examples <= 0:
        raise ValueError("metric = 'f1' needs f1_examples > 0")
    if metric == "loss" and loss_examples <= 0:
        raise ValueError("metric = 'loss' needs loss_examples > 0")
    return EvaluationSettings(every, loss_examples, f1_examples, batch_size, metric, patience,
                              max_new_tokens_factor, constrain)


@dataclass
class FinetuneSetup:
    """Everything a fine-tuning run needs, resolved from a config."""

    train_path: str
    validation_path: str
    output_dir: str
    prompt: FinetunePrompt
    model: BaseModelSettings
    lora: LoraSettings
    training: TrainingSettings
    evaluation: EvaluationSettings
    config: Dict[str, Any]

    def hyperparameters(self) -> Dict[str, Any]:
        return {
            "prompt": self.prompt.to_dict(),
            "model": self.model.to_dict(),
            "lora": self.lora.to_dict(),
            "training": self.training.to_dict(),
            "evaluation": self.evaluation.to_dict(),
        }


def load_setup(path: Union[str, Path], overrides: Optional[Dict[str, Any]] = None) -> FinetuneSetup:
    """Read and resolve a fine-tuning config file (errors name the file and setting)."""

    import raredis_llm.finetune  # noqa: F401  (registers the functions)

    config = load_config(path, overrides=dict(overrides or {}), interpolate=True)
    for section in ("paths", "prompt", "model", "lora", "training", "evaluation"):
        if section not in config:
            raise ValueError(f"{path}: missing section [{section}]")
    for key in ("train", "validation", "output"):
        if not config["paths"].get(key):
            raise ValueError(f"{path}: [paths] needs '{key}'")
    resolved = registry.resolve({k: v for k, v in config.items() if k != "paths"}, validate=True)
    return FinetuneSetup(
        train_path=str(config["paths"]["train"]),
        validation_path=str(config["paths"]["validation"]),
        output_dir=str(config["paths"]["output"]),
        prompt=resolved["prompt"],
        model=resolved["model"],
        lora=resolved["lora"],
        training=resolved["training"],
        evaluation=resolved["evaluation"],
        config=dict(config),
    )
