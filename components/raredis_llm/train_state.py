"""What a resumable training run keeps between sessions, shared by the LoRA fine-tuner
(``finetune/trainer.py``) and the tagger trainer (``tagger/trainer.py``): step and epoch
counters, the best validation metric, history, and the random number generators' state;
and the two rules both trainers follow: how many steps a run takes, and its schedule.
"""

import math
import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import torch

#: the state's file name inside a checkpoint folder
STATE_FILE = "trainer_state.json"


@dataclass
class TrainerState:
    step: int = 0
    epoch: int = 0
    #: micro-batches of the current epoch already consumed
    batch_in_epoch: int = 0
    elapsed_s: float = 0.0
    best_metric: Optional[float] = None
    best_step: Optional[int] = None
    bad_evals: int = 0
    history: List[Dict[str, Any]] = field(default_factory=list)
    step_times: List[float] = field(default_factory=list)
    train_losses: List[List[float]] = field(default_factory=list)
    sessions: int = 0
    stop_reason: Optional[str] = None


def planned_steps(per_epoch: int, max_steps: int, max_epochs: float) -> int:
    """Steps of a run: ``max_epochs`` epochs of ``per_epoch`` steps, capped by ``max_steps``
    (either may be 0: not set)."""
    by_epochs = math.ceil(per_epoch * max_epochs) if max_epochs > 0 else max_steps
    return max(1, min(max_steps, by_epochs) if max_steps > 0 else by_epochs)


def make_scheduler(optimizer, name: str, warmup_steps: int, total: int):
    """The learning-rate schedule (``transformers``' names; ``"constant"`` has warm-up too)."""
    from transformers import get_scheduler

    name = "constant_with_warmup" if name == "constant" else name
    return get_scheduler(name, optimizer, num_warmup_steps=min(warmup_steps, total), num_training_steps=total)


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass


def rng_state() -> Dict[str, Any]:
    state: Dict[str, Any] = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy as np

        state["numpy"] = np.random.get_state()
    except ImportError:  # pragma: no cover
        pass
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "numpy" in state:
        import numpy as np

        np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


#: how a run stopped by the wall-clock safety cap is marked (``TrainerState.stop_reason``)
SAFETY_STOP = "max_minutes"


def safety_stop(max_minutes: float, elapsed_s: float, step: int, total: int, log) -> Optional[str]:
    """The one wall-clock rule of both trainers: None while ``elapsed_s`` is within
    ``max_minutes`` (0: no cap), else the stop reason, logged as a warning. A run is
    decided by its steps; this cap only keeps a stalled or far too slow run from going on."""
    if max_minutes <= 0 or elapsed_s <= max_minutes * 60:
        return None
    log(f"WARNING: stopped by the wall-clock safety cap ({max_minutes} min) after {step} of {total} "
        "steps; the result is marked as stopped by time")
    return f"{SAFETY_STOP} ({max_minutes}): SAFETY STOP before the planned {total} steps"


def stopped_by_time(state: TrainerState) -> bool:
    return bool(state.stop_reason and state.stop_reason.startswith(SAFETY_STOP))
