"""Add the boundary component and the entity guard to a loaded pipeline."""

from typing import List

from spacy.language import Language

BOUNDARIES = "raredis_boundaries"
GUARD = "raredis_entity_guard"


def _factories(nlp: Language) -> List[str]:
    return [nlp.get_pipe_meta(name).factory for name in nlp.pipe_names]


def add_guards(nlp: Language, *, boundaries: bool = True, guard: bool = True, trim_cues: bool = False) -> List[str]:
    """Put ``raredis_boundaries`` first and ``raredis_entity_guard`` right after the last
    component that writes ``doc.ents`` (so before ``negex`` and other readers of the
    entities); leave components already there alone. Return the names added."""
    from . import boundaries as _b, entity_guard as _g  # noqa: F401  (register the factories)

    added: List[str] = []
    factories = _factories(nlp)
    if boundaries and BOUNDARIES not in factories:
        nlp.add_pipe(BOUNDARIES, first=True)
        added.append(BOUNDARIES)
    if guard and GUARD not in factories:
        writers = [name for name in nlp.pipe_names
                   if "doc.ents" in nlp.get_pipe_meta(name).assigns and name != BOUNDARIES]
        where = {"after": writers[-1]} if writers else {"last": True}
        nlp.add_pipe(GUARD, config={"trim_cues": trim_cues}, **where)
        added.append(GUARD)
    return added
