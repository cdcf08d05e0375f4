"""The prompt of a fine-tuned model, shared by training and the ``raredis_llm_ner`` component.

A :class:`FinetunePrompt` renders the instruction and the text the model continues from
two Jinja2 templates (``prompt_style``: ``"short"``, a few words, or ``"alpaca"``, the
Stanford Alpaca prompt of the papers; or template files), renders gold answers for
training and parses the model's answers, in one output format. What an adapter was
trained with is recorded beside it (``raredis_finetune.json``) so that inference rebuilds
the same prompt.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import jinja2
import jinja2.sandbox

from ..labels import LABELS
from ..util import bundled_path, read_json
from .formats import get_format

PROMPT_STYLES = ("short", "alpaca")
#: Answers are cut here if a model runs on into a new prompt section.
STOP = ("\n### ", "\nText:")
#: The file in an adapter folder recording how it was trained.
ADAPTER_INFO = "raredis_finetune.json"


def _template(path: Optional[Union[str, Path]], style: str, kind: str) -> Tuple[str, str]:
    """``(text, source)``: the file at ``path``, else the bundled template of ``style``."""
    file = Path(path) if path else bundled_path("finetune", f"{style}_{kind}.jinja")
    if not file.exists():
        raise FileNotFoundError(f"Prompt template not found: {file}")
    return file.read_text(encoding="utf8"), str(path) if path else f"raredis_llm/templates/finetune/{file.name}"


@dataclass
class FinetunePrompt:
    """Renders instructions/prompts and owns the output format of a fine-tuned model."""

    output_format: str = "inline"
    labels: Sequence[str] = field(default_factory=lambda: list(LABELS))
    instruction_template: Optional[str] = None
    prompt_template: Optional[str] = None
    prompt_style: str = "short"
    #: template *texts*, taking precedence over paths and style (saved pipelines use these)
    instruction_text: Optional[str] = None
    prompt_text: Optional[str] = None

    def __post_init__(self):
        self.labels = [str(label) for label in self.labels]
        if not self.labels:
            raise ValueError("FinetunePrompt needs at least one label")
        if self.prompt_style not in PROMPT_STYLES:
            raise ValueError(f"prompt_style must be one of {PROMPT_STYLES}, not {self.prompt_style!r}")
        self.format = get_format(self.output_format)
        env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        if self.instruction_text is not None:
            self.instruction_template_text, self.instruction_source = self.instruction_text, "<text>"
        else:
            self.instruction_template_text, self.instruction_source = _template(
                self.instruction_template, self.prompt_style, "instruction")
        if self.prompt_text is not None:
            self.prompt_template_text, self.prompt_source = self.prompt_text, "<text>"
        else:
            self.prompt_template_text, self.prompt_source = _template(
                self.prompt_template, self.prompt_style, "prompt")
        self._prompt = env.from_string(self.prompt_template_text)
        example_label = self.labels[0]
        format_instructions = env.from_string(self.format.instructions).render(
            labels=self.labels, example_label=example_label)
        self.instruction = " ".join(env.from_string(self.instruction_template_text).render(
            labels=self.labels, format_instructions=format_instructions, example_label=example_label,
            output_format=self.output_format).split())

    def prompt(self, text: str, instruction: Optional[str] = None) -> str:
        """The model input for one sentence (up to where the answer starts)."""
        return self._prompt.render(instruction=self.instruction if instruction is None else instruction, input=text)

    def render_answer(self, text: str, spans) -> str:
        """The gold answer for ``text`` with ``(start, end, label)`` spans."""
        return self.format.render(text, spans)

    def parse(self, text: str, answer: Any, **kwargs):
        """``(spans, stats)`` from a model answer, with the shared format parser."""
        return self.format.parse(text, answer, self.labels, **kwargs)

    def to_dict(self) -> Dict[str, object]:
        return {
            "output_format": self.output_format,
            "labels": list(self.labels),
            "instruction_template": self.instruction_template,
            "prompt_template": self.prompt_template,
            "prompt_style": self.prompt_style,
            "instruction": self.instruction,
        }

    @classmethod
    def from_adapter_info(cls, info: Dict[str, Any], **overrides: Any) -> "FinetunePrompt":
        """The prompt an adapter was trained with; non-None ``overrides`` win."""
        trained = info.get("prompt", {})
        kwargs: Dict[str, Any] = {
            "output_format": trained.get("output_format") or "inline",
            "labels": trained.get("labels") or list(LABELS),
            # adapters trained before prompt styles existed used the Alpaca prompt
            "prompt_style": trained.get("prompt_style") or ("alpaca" if info else "short"),
            "instruction_text": info.get("instruction_template_text"),
            "prompt_text": info.get("prompt_template_text"),
        }
        for key, value in overrides.items():
            if value is not None:
                kwargs[key] = value
        if overrides.get("instruction_template"):
            kwargs["instruction_text"] = None
        if overrides.get("prompt_template"):
            kwargs["prompt_text"] = None
        return cls(**kwargs)


def adapter_info(prompt: FinetunePrompt, base_model: str, lora: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    """What an adapter folder records about how it was trained: the base model and
    everything needed to rebuild the exact prompt."""
    info = {
        "base_model": base_model,
        "prompt": prompt.to_dict(),
        "prompt_template_text": prompt.prompt_template_text,
        "instruction_template_text": prompt.instruction_template_text,
        "lora": dict(lora),
    }
    info.update(extra)
    return info


def read_adapter_info(adapter: Optional[Union[str, Path]]) -> Dict[str, Any]:
    """The record a training run wrote into an adapter folder ({} when there is none)."""
    if adapter is None:
        return {}
    path = Path(adapter) / ADAPTER_INFO
    return read_json(path) if path.exists() else {}
