"""The instruction prompt shared by fine-tuning and the ``raredis_llm_ner`` component.

Two Jinja2 files in ``raredis_llm/templates/`` (override either with a path):

* ``finetune_instruction.jinja`` -> the Alpaca ``instruction`` (task, labels, the output
  format's instructions from :mod:`raredis_llm.llm.formats`);
* ``finetune_prompt.jinja`` -> the text the model continues, from ``instruction`` and
  ``input`` (the Stanford Alpaca prompt). Its last characters are the prompt's last
  characters (trailing newline kept).

The output format object is the shared one (``get_format(name)``): it renders the gold
``output`` for training and parses the model's answer at inference.
"""

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import jinja2
import jinja2.sandbox
from spacy.util import registry

from ..labels import LABELS
from ..llm.formats import get_format

DEFAULT_INSTRUCTION_TEMPLATE = "finetune_instruction.jinja"
DEFAULT_PROMPT_TEMPLATE = "finetune_prompt.jinja"
#: Answers are cut here if the model runs on into a new Alpaca section.
DEFAULT_STOP = ("\n### ",)


def sentence_budget(n_prompt_tokens: int, n_prefix: int, factor: float, cap: Optional[int] = None) -> int:
    """New tokens the fine-tuned model may generate for one prompt: ``factor`` x the
    sentence's tokens (the prompt minus its fixed ``n_prefix``) + 16, at most ``cap``.
    Used in training (validation F1) and by the ``raredis_llm_ner`` component alike."""
    budget = int(factor * max(1, n_prompt_tokens - n_prefix)) + 16
    return budget if cap is None else min(cap, budget)


def template_text(path: Optional[Union[str, Path]], default: str) -> Tuple[str, str]:
    """``(text, source)`` of a template file; a bundled one when ``path`` is empty."""
    if path:
        file = Path(path)
        source = str(file)
        if not file.exists():
            raise FileNotFoundError(f"Prompt template not found: {file}")
        return file.read_text(encoding="utf8"), source
    res = resources.files("raredis_llm") / "templates" / default
    return res.read_text(encoding="utf8"), f"raredis_llm/templates/{default}"


@dataclass
class FinetunePrompt:
    """Renders instructions/prompts and owns the output format of a fine-tuned model."""

    output_format: str = "inline"
    labels: Sequence[str] = field(default_factory=lambda: list(LABELS))
    instruction_template: Optional[str] = None
    prompt_template: Optional[str] = None
    #: template *texts*, taking precedence over the paths (saved pipelines use these)
    instruction_text: Optional[str] = None
    prompt_text: Optional[str] = None

    def __post_init__(self):
        self.labels = [str(label) for label in self.labels]
        if not self.labels:
            raise ValueError("FinetunePrompt needs at least one label")
        self.format = get_format(self.output_format)
        env = jinja2.sandbox.SandboxedEnvironment(
            undefined=jinja2.StrictUndefined, keep_trailing_newline=True
        )
        if self.instruction_text is not None:
            self.instruction_template_text, self.instruction_source = self.instruction_text, "<text>"
        else:
            self.instruction_template_text, self.instruction_source = template_text(
                self.instruction_template, DEFAULT_INSTRUCTION_TEMPLATE)
        if self.prompt_text is not None:
            self.prompt_template_text, self.prompt_source = self.prompt_text, "<text>"
        else:
            self.prompt_template_text, self.prompt_source = template_text(
                self.prompt_template, DEFAULT_PROMPT_TEMPLATE)
        self._instruction = env.from_string(self.instruction_template_text)
        self._prompt = env.from_string(self.prompt_template_text)
        example_label = self.labels[0]
        format_instructions = env.from_string(self.format.instructions).render(
            labels=self.labels, example_label=example_label
        )
        self.instruction = " ".join(
            self._instruction.render(
                labels=self.labels, format_instructions=format_instructions, example_label=example_label
            ).split()
        )

    def prompt(self, text: str, instruction: Optional[str] = None) -> str:
        """The model input for one sentence (Alpaca prompt up to ``### Response:``)."""
        return self._prompt.render(instruction=self.instruction if instruction is None else instruction, input=text)

    def render_answer(self, text: str, spans) -> str:
        """The gold answer (``output``) for ``text`` with ``(start, end, label)`` spans."""
        return self.format.render(text, spans)

    def parse(self, text: str, answer: str, label_map: Optional[Dict[str, str]] = None, **kwargs):
        """``(spans, stats)`` from a model answer, with the shared format parser."""
        return self.format.parse(text, answer, label_map or self.labels, **kwargs)

    def to_dict(self) -> Dict[str, object]:
        return {
            "output_format": self.output_format,
            "labels": list(self.labels),
            "instruction_template": self.instruction_template,
            "prompt_template": self.prompt_template,
            "instruction": self.instruction,
        }


@registry.misc("raredis.FinetunePrompt.v1")
def make_finetune_prompt(
    output_format: str = "inline",
    labels: List[str] = list(LABELS),
    instruction_template: Optional[str] = None,
    prompt_template: Optional[str] = None,
) -> FinetunePrompt:
    """Prompt + output format of a fine-tuned model (see :class:`FinetunePrompt`)."""
    return FinetunePrompt(output_format, labels, instruction_template, prompt_template)
