"""Read an OBO 1.2 ontology file (HPO's ``hp.obo``) into terms.

Only what the knowledge base needs is kept: id, name, definition, synonyms (text, scope,
type), ``is_a`` parents, ``alt_id``, ``is_obsolete``, ``replaced_by``. Every problem - a line
that is not ``key: value``, a term without id or name, an unterminated quoted string, a
parent that names no term (what a file cut short leaves behind), an empty file - raises
:class:`SourceFileError` with the file and line.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

from .errors import SourceFileError

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(.*)$')
_ESCAPE = re.compile(r"\\(.)")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_.]+$")


@dataclass
class Synonym:
    text: str
    scope: str  # EXACT, NARROW, RELATED, BROAD
    type: Optional[str] = None  # layperson, abbreviation, uk_spelling, plural_form, ...


@dataclass
class Term:
    id: str
    name: str = ""
    definition: Optional[str] = None
    synonyms: List[Synonym] = field(default_factory=list)
    parents: List[str] = field(default_factory=list)
    alt_ids: List[str] = field(default_factory=list)
    obsolete: bool = False
    replaced_by: Optional[str] = None
    line: int = 0  # line of the [Term] header


@dataclass
class Ontology:
    path: str
    header: Dict[str, List[str]]
    terms: Dict[str, Term]

    @property
    def version(self) -> str:
        """``data-version`` without the ``hp/releases/`` prefix (e.g. ``2025-01-16``)."""
        value = (self.header.get("data-version") or [""])[0]
        return value.rsplit("/", 1)[-1]


def _unquote(path: Path, line_no: int, value: str) -> Tuple[str, str]:
    """``"text" rest`` -> (text, rest) with OBO escapes resolved."""
    match = _QUOTED.match(value)
    if match is None:
        raise SourceFileError(path, line_no, f"expected a quoted string, got {value[:80]!r}")
    return _ESCAPE.sub(r"\1", match.group(1)), match.group(2)


def _strip_comment(value: str) -> str:
    """Drop a trailing ``! comment`` (only outside quotes; used for id-valued tags)."""
    return value.split(" !", 1)[0].strip()


def _lines(path: Path) -> Iterator[Tuple[int, str]]:
    try:
        with path.open(encoding="utf8") as fh:
            for line_no, line in enumerate(fh, start=1):
                yield line_no, line.rstrip("\n").rstrip("\r")
    except UnicodeDecodeError as err:
        raise SourceFileError(path, None, f"not UTF-8 text ({err})") from err


def _set_tag(path: Path, line_no: int, term: Term, key: str, value: str) -> None:
    if key == "id":
        term.id = _strip_comment(value)
    elif key == "name":
        term.name = value.strip()
    elif key == "def":
        term.definition = _unquote(path, line_no, value)[0].strip()
    elif key == "synonym":
        text, rest = _unquote(path, line_no, value)
        parts = rest.split()
        if not parts or parts[0] not in ("EXACT", "NARROW", "RELATED", "BROAD"):
            raise SourceFileError(path, line_no, f"synonym without a scope (EXACT/NARROW/RELATED/BROAD): {value[:80]!r}")
        syn_type = parts[1] if len(parts) > 1 and not parts[1].startswith("[") else None
        term.synonyms.append(Synonym(text.strip(), parts[0], syn_type))
    elif key == "is_a":
        parent = _strip_comment(value).split()[0] if value.strip() else ""
        if not _ID.match(parent):
            raise SourceFileError(path, line_no, f"is_a without a term id: {value[:80]!r}")
        term.parents.append(parent)
    elif key == "alt_id":
        term.alt_ids.append(_strip_comment(value))
    elif key == "is_obsolete":
        term.obsolete = value.strip() == "true"
    elif key == "replaced_by":
        term.replaced_by = _strip_comment(value)


def read_obo(path: Union[str, Path]) -> Ontology:
    """Parse ``path``; see the module docstring for what is checked."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Ontology file not found: {path}")
    header: Dict[str, List[str]] = {}
    terms: Dict[str, Term] = {}
    parent_lines: Dict[Tuple[str, int], int] = {}
    term: Optional[Term] = None
    stanza: Optional[str] = None  # None: header; "Term"; other stanza types are skipped
    last_line = 0

    def close(term: Optional[Term]) -> None:
        if term is None:
            return
        if not term.id or not _ID.match(term.id):
            raise SourceFileError(path, term.line, f"[Term] without a valid id ({term.id!r})")
        if not term.name:
            raise SourceFileError(path, term.line, f"[Term] {term.id} has no name (file cut short?)")
        if term.id in terms:
            raise SourceFileError(path, term.line, f"duplicate term id {term.id}")
        terms[term.id] = term

    for line_no, line in _lines(path):
        last_line = line_no
        stripped = line.strip()
        if not stripped or stripped.startswith("!"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise SourceFileError(path, line_no, f"malformed stanza header {stripped[:80]!r}")
            close(term)
            stanza = stripped[1:-1]
            term = Term(id="", line=line_no) if stanza == "Term" else None
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key.strip():
            raise SourceFileError(path, line_no, f"expected 'tag: value', got {line[:80]!r}")
        key, value = key.strip(), value.strip()
        if stanza is None:
            header.setdefault(key, []).append(value)
        elif term is not None:
            _set_tag(path, line_no, term, key, value)
            if key == "is_a":
                parent_lines[(term.id or f"@{term.line}", len(term.parents) - 1)] = line_no
    close(term)
    if not terms:
        raise SourceFileError(path, last_line or None, "no [Term] stanzas (empty or truncated file)")
    known = set(terms)
    for t in terms.values():
        known.update(t.alt_ids)
    for t in terms.values():
        for i, parent in enumerate(t.parents):
            if parent not in known:
                raise SourceFileError(
                    path, parent_lines.get((t.id, i), t.line),
                    f"{t.id} is_a {parent}, which is not a term of this file (truncated file?)")
    return Ontology(path=str(path), header=header, terms=terms)
