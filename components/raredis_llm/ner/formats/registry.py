"""The answer formats by name (``get_format("inline")``); add one with :func:`register_format`."""

from typing import Dict, Tuple

from .base import OutputFormat
from .bio import BIOFormat
from .inline import InlineFormat
from .json_items import JSONFormat
from .lines import LinesFormat

_FORMATS: Dict[str, OutputFormat] = {}


def register_format(fmt: OutputFormat) -> OutputFormat:
    """Make an :class:`OutputFormat` instance available through :func:`get_format`."""
    _FORMATS[fmt.name] = fmt
    return fmt


for _fmt in (InlineFormat(), JSONFormat(), BIOFormat(), LinesFormat()):
    register_format(_fmt)

#: Names ``get_format`` accepts (the built-in ones).
FORMAT_NAMES: Tuple[str, ...] = tuple(_FORMATS)


def get_format(name: str) -> OutputFormat:
    """The output format called ``name`` (see :data:`FORMAT_NAMES`)."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise ValueError(f"Unknown output format '{name}'; choose one of {sorted(_FORMATS)}") from None
