"""The spacy-llm task ``raredis.NER.v1``: :mod:`.task` (prompts, parsing, serialization),
:mod:`.definitions` (label definitions and rules) and :mod:`.registry` (registered functions)."""

from .registry import make_label_definitions, make_raredis_ner_task, make_task_description
from .task import RareDisNERTask

__all__ = ["RareDisNERTask", "make_raredis_ner_task", "make_label_definitions", "make_task_description"]
