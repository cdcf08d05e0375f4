"""Build an ensemble pipeline from saved pipelines (``scripts/assemble_ensemble.py``).

Each member's components are sourced into one pipeline under ``<member>_<component>``;
a member's shared embedding layer (``tok2vec``, ``transformer``) is copied into the
components that listen to it (``replace_listeners``), so members never share or clash.
After each member comes ``raredis_collect_ents`` (its entities go to
``doc.spans["raredis_member_<member>"]``), and ``raredis_span_vote`` ends the pipeline.
The tokenizer is the first member's, or that of the member named by ``tokenizer_from``
(the member order sets who wins ties; the tokenizer should be one that suits the text:
``raredis.Tokenizer.v1`` splits markup).
"""

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import spacy
from spacy.language import Language

from ..util import named_path

MEMBER_KEY = "raredis_member_{}"
Member = Tuple[str, Union[str, Path, Language]]


def _is_embedding(pipe: Any) -> bool:
    return hasattr(pipe, "listening_components")


def _own_embeddings(nlp: Language) -> None:
    """Give every listener its own copy of the embedding layer it listens to."""
    for name, pipe in list(nlp.pipeline):
        if _is_embedding(pipe):
            for listener in list(pipe.listening_components):
                nlp.replace_listeners(name, listener, ["model.tok2vec"])


def build_ensemble(members: Sequence[Member], min_votes: int = 2, tokenizer_from: Optional[str] = None) -> Language:
    """One pipeline in which every member tags the text and the spans that at least
    ``min_votes`` members agree on become ``doc.ents`` (earlier members win ties); the
    tokenizer is ``tokenizer_from``'s (default: the first member's)."""
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two members")
    names = [name for name, _ in members]
    if len(set(names)) != len(names):
        raise ValueError(f"member names must differ: {names}")
    if tokenizer_from is not None and tokenizer_from not in names:
        raise ValueError(f"tokenizer_from = {tokenizer_from!r} is not a member ({names})")
    loaded: List[Tuple[str, Language, str]] = []
    for name, source in members:
        if isinstance(source, Language):
            loaded.append((name, source, "<in memory>"))
        else:
            if not Path(source).exists():
                raise FileNotFoundError(f"ensemble member {name}: no pipeline at {source}")
            loaded.append((name, spacy.load(source), str(source)))
    first = loaded[names.index(tokenizer_from) if tokenizer_from is not None else 0][1]
    nlp = spacy.blank(first.lang, config={"nlp": {"tokenizer": first.config["nlp"]["tokenizer"]}})
    nlp.tokenizer.from_bytes(first.tokenizer.to_bytes())
    keys: List[str] = []
    for name, member, _ in loaded:
        _own_embeddings(member)
        for comp, pipe in member.pipeline:
            if _is_embedding(pipe):
                continue  # now copied into its listeners
            nlp.add_pipe(comp, name=f"{name}_{comp}", source=member)
        key = MEMBER_KEY.format(name)
        nlp.add_pipe("raredis_collect_ents", name=f"{name}_collect", config={"key": key})
        keys.append(key)
    nlp.add_pipe("raredis_span_vote", config={"keys": keys, "min_votes": min_votes})
    nlp.meta["raredis_ensemble"] = {"members": {name: where for name, _, where in loaded}, "min_votes": min_votes,
                                    "tokenizer_from": tokenizer_from or names[0],
                                    "rule": "a span (characters and label) proposed by at least min_votes members; "
                                            "overlaps: more votes, then earlier member, then longer"}
    labels = sorted({label for _, member, _ in loaded for label in _labels(member)})
    nlp.meta["labels"] = {"raredis_span_vote": labels}
    requirements = [r for _, member, _ in loaded for r in member.meta.get("requirements", [])]
    nlp.meta["requirements"] = sorted(set(requirements))  # what each member's package needed
    return nlp


def _labels(nlp: Language) -> List[str]:
    out: List[str] = []
    for _, pipe in nlp.pipeline:
        out.extend(getattr(pipe, "labels", ()) or ())
    return out


def member_specs(specs: Sequence[str]) -> List[Member]:
    """``NAME=PATH`` strings as members (the command line's form)."""
    return [named_path(spec, "member") for spec in specs]
