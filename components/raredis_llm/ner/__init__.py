"""NER as text generation, shared by inference and training: answer formats and their
parsers (:mod:`.formats`, :mod:`.align`), the generation budget (:mod:`.budget`), the
prompt of a fine-tuned model (:mod:`.finetuned`), answers -> ``doc.ents`` (:mod:`.ents`)
and the counters a Doc records (:mod:`.stats`). Imports nothing from ``llm``,
``finetune`` or ``pipeline``."""

from .formats import FORMAT_NAMES, OutputFormat, get_format, register_format

__all__ = ["FORMAT_NAMES", "OutputFormat", "get_format", "register_format"]
