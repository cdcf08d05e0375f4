"""Odd input (line breaks, bullet lists, HTML, capitals, control characters) for any NER.

``raredis_boundaries`` (first in a pipeline) splits markup off the words it is glued to
and marks line breaks, markup and list bullets as sentence starts, which spaCy's ``ner``
never crosses; ``raredis_entity_guard`` (after the last NER) splits and trims entities
that an LLM or another NER let cross such a boundary, and can trim leading negation
cues. ``raredis.Tokenizer.v1`` tokenizes markup the same way at training time, and
``raredis.NoisyCopies.v1`` is a training augmenter that adds lightly noised copies.
"""

from .boundaries import TextBoundaries, make_text_boundaries
from .entity_guard import EntityGuard, make_entity_guard
from .markup import MARKUP_TAG, is_bullet, is_line_break, is_markup
from .pipeline import add_guards

__all__ = [
    "TextBoundaries", "make_text_boundaries", "EntityGuard", "make_entity_guard", "MARKUP_TAG",
    "is_bullet", "is_line_break", "is_markup", "add_guards",
]
