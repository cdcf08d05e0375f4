"""Answer formats: render gold answers (few-shot examples, training targets) and parse
model answers into ``(start, end, label)`` character spans. One module per format."""

from .base import OutputFormat
from .bio import bio_tokens
from .registry import FORMAT_NAMES, get_format, register_format

__all__ = ["OutputFormat", "FORMAT_NAMES", "get_format", "register_format", "bio_tokens"]
