"""Imports of what the package's extras install (pyproject ``[project.optional-dependencies]``),
failing with one line that names what needs it and the install that fixes it, instead of a
traceback from deep inside an import."""

import importlib
from types import ModuleType


class MissingExtra(ImportError):
    """A module of one of the package's extras is not installed."""


def missing_extra(module: str, extra: str, needed_by: str) -> MissingExtra:
    """The one-line error: ``needed_by`` needs ``pip install 'raredis-llm[EXTRA]'``."""
    return MissingExtra(f"{needed_by} needs the '{extra}' extra ({module} is not installed): "
                        f"pip install 'raredis-llm[{extra}]'")


def require(module: str, extra: str, needed_by: str) -> ModuleType:
    """``importlib.import_module(module)``, or :func:`missing_extra`'s error."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        if err.name is not None and err.name != module and not module.startswith(err.name + "."):
            raise  # the module is there but something it imports failed: not a missing extra
        raise missing_extra(module, extra, needed_by) from None
