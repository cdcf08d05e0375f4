"""Span voting across pipelines (``raredis_collect_ents``, ``raredis_span_vote``,
:func:`build_ensemble`): see ``vote.py`` and ``build.py``."""

from .build import build_ensemble
from .vote import collect_ents, resolve_votes

__all__ = ["build_ensemble", "collect_ents", "resolve_votes"]
