"""LoRA hyper-parameters shared by both trainers (``raredis.LoraAdapter.v1``).

The generative fine-tuner and the LLM tagger both read this section; the tagger's packaged
component reads it back to rebuild an adapter's layout. It lives here, beside the model
loaders, so that loading a tagger pipeline never imports the generative trainer; ``peft``
is imported only when an adapter is built.
"""

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Union

from spacy.util import registry


@dataclass
class LoraSettings:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    #: module names, or "all-linear" (every linear layer but the LM head)
    target_modules: Union[str, List[str]] = field(default_factory=lambda: ["q_proj", "v_proj"])
    #: only put adapters on these layer indices (None: every layer)
    layers_to_transform: Optional[List[int]] = None

    def peft_config(self):
        from peft import LoraConfig

        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            layers_to_transform=self.layers_to_transform,
            bias="none",
            task_type="CAUSAL_LM",
        )

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@registry.misc("raredis.LoraAdapter.v1")
def make_lora_settings(
    r: int = 8,
    alpha: int = 16,
    dropout: float = 0.05,
    target_modules: Union[str, List[str]] = ["q_proj", "v_proj"],
    layers_to_transform: Optional[List[int]] = None,
) -> LoraSettings:
    """LoRA hyper-parameters (``target_modules = "all-linear"`` for every linear layer)."""
    return LoraSettings(r, alpha, dropout, target_modules, layers_to_transform)
