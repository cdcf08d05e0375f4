"""Read and write BRAT standoff annotation (``.txt`` + ``.ann``) as RareDis uses it.

Only text-bound annotations (``T``) and relations (``R``) carry information for this
project; notes (``#``), attributes (``A``/``M``), events (``E``) and equivalences
(``*``) are kept verbatim in ``BratDocument.other_lines`` so a round trip loses nothing.

Problems are reported as :class:`BratIssue` (file, line, message). In strict mode the
first problem raises :class:`BratError`; in lenient mode the offending line is skipped
(or, for a text mismatch, read by its offsets) and the issue is returned for the report.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

Fragment = Tuple[int, int]

_OFFSETS_RE = re.compile(r"^\d+ \d+(;\d+ \d+)*$")


@dataclass
class Entity:
    id: str
    label: str
    fragments: List[Fragment]
    text: str

    @property
    def start(self) -> int:
        return min(s for s, _ in self.fragments)

    @property
    def end(self) -> int:
        return max(e for _, e in self.fragments)

    @property
    def is_discontinuous(self) -> bool:
        return len(self.fragments) > 1

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "fragments": [list(f) for f in self.fragments], "text": self.text}

    @classmethod
    def from_dict(cls, data: dict) -> "Entity":
        return cls(data["id"], data["label"], [tuple(f) for f in data["fragments"]], data["text"])

    def shifted(self, delta: int) -> "Entity":
        return Entity(self.id, self.label, [(s + delta, e + delta) for s, e in self.fragments], self.text)


@dataclass
class Relation:
    id: str
    type: str
    arg1: str
    arg2: str

    def to_dict(self) -> dict:
        return {"id": self.id, "type": self.type, "arg1": self.arg1, "arg2": self.arg2}

    @classmethod
    def from_dict(cls, data: dict) -> "Relation":
        return cls(data["id"], data["type"], data["arg1"], data["arg2"])


@dataclass
class BratIssue:
    path: str
    line: Optional[int]
    kind: str
    message: str
    entity_id: Optional[str] = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "kind": self.kind, "message": self.message, "entity_id": self.entity_id}


class BratError(ValueError):
    """A BRAT file cannot be read; the message names the file and line."""

    def __init__(self, issue: BratIssue):
        super().__init__(str(issue))
        self.issue = issue


@dataclass
class BratDocument:
    doc_id: str
    text: str
    entities: List[Entity] = field(default_factory=list)
    relations: List[Relation] = field(default_factory=list)
    other_lines: List[str] = field(default_factory=list)

    def entity(self, entity_id: str) -> Entity:
        for ent in self.entities:
            if ent.id == entity_id:
                return ent
        raise KeyError(entity_id)


# Issue kinds (also used as keys in the conversion report)
MISSING_TXT = "missing_txt"
MALFORMED_LINE = "malformed_line"
OFFSETS_OUT_OF_RANGE = "offsets_out_of_range"
UNKNOWN_LABEL = "unknown_label"
TEXT_MISMATCH = "text_mismatch"
QUOTE_DOUBLING = "quote_doubling"
DUPLICATE_ID = "duplicate_id"
DANGLING_RELATION = "dangling_relation"


def fragment_text(text: str, fragments: Sequence[Fragment]) -> str:
    """The text BRAT writes for these fragments: the pieces joined by a space, in file order."""
    return " ".join(text[s:e] for s, e in fragments)


def _column(text: str) -> str:
    """The text as the ``.ann`` column can hold it: no line breaks or tabs."""
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def _check_text(ann_text: str, expected: str) -> Optional[str]:
    """Return None if the .ann text column agrees with the offsets, else the issue kind.

    Quote doubling: the column differs from the text only in its double quotes, as in
    the CSV-style quoting seen in RareDis (``"a """"b"""" c"`` for the text ``a ""b"" c``).
    """
    if ann_text == expected or ann_text == _column(expected):
        return None
    if ann_text.replace('"', "") == expected.replace('"', ""):
        return QUOTE_DOUBLING
    return TEXT_MISMATCH


def parse_ann(
    ann: str,
    text: str,
    path: str = "<string>",
    labels: Optional[Iterable[str]] = None,
    lenient: bool = False,
) -> Tuple[List[Entity], List[Relation], List[str], List[BratIssue]]:
    """Parse the contents of an ``.ann`` file against its text.

    Entities are always placed by their offsets into ``text``. A text column that
    disagrees with the offsets is reported: quote doubling (``""word""``, a known quirk of
    16 RareDis entities) is an info-level issue in both modes; any other mismatch raises
    in strict mode.
    """
    allowed = set(labels) if labels is not None else None
    entities: List[Entity] = []
    relations: List[Relation] = []
    other: List[str] = []
    issues: List[BratIssue] = []
    seen: Dict[str, int] = {}

    def problem(lineno: int, kind: str, message: str, entity_id: Optional[str] = None, fatal: bool = True):
        issue = BratIssue(path, lineno, kind, message, entity_id)
        if fatal and not lenient:
            raise BratError(issue)
        issues.append(issue)

    for lineno, raw in enumerate(ann.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        kind = line[0]
        if kind == "T":
            parts = line.split("\t")
            if len(parts) < 3 or " " not in parts[1]:
                problem(lineno, MALFORMED_LINE, f"malformed entity line: {line!r}")
                continue
            ent_id, mid, ann_text = parts[0], parts[1], "\t".join(parts[2:])
            label, offsets = mid.split(" ", 1)
            if not _OFFSETS_RE.match(offsets):
                problem(lineno, MALFORMED_LINE, f"malformed offsets {offsets!r} in {ent_id}", ent_id)
                continue
            frags = [tuple(int(x) for x in piece.split(" ")) for piece in offsets.split(";")]
            if any(s >= e or s < 0 or e > len(text) for s, e in frags):
                problem(
                    lineno,
                    OFFSETS_OUT_OF_RANGE,
                    f"{ent_id} offsets {offsets} are empty or outside the text (length {len(text)})",
                    ent_id,
                )
                continue
            if allowed is not None and label not in allowed:
                problem(lineno, UNKNOWN_LABEL, f"{ent_id} has unknown label {label!r} (known: {sorted(allowed)})", ent_id)
                continue
            if ent_id in seen:
                problem(lineno, DUPLICATE_ID, f"{ent_id} already defined on line {seen[ent_id]}", ent_id)
                continue
            expected = fragment_text(text, frags)
            mismatch = _check_text(ann_text, expected)
            if mismatch == QUOTE_DOUBLING:
                problem(lineno, QUOTE_DOUBLING, f"{ent_id} text column doubles quotes ({ann_text!r}); read by offsets as {expected!r}", ent_id, fatal=False)
            elif mismatch == TEXT_MISMATCH:
                problem(lineno, TEXT_MISMATCH, f"{ent_id} text column {ann_text!r} does not match the text at {offsets}: {expected!r}", ent_id)
                # lenient: trust the offsets
            seen[ent_id] = lineno
            entities.append(Entity(ent_id, label, list(frags), expected))
        elif kind == "R":
            parts = line.split("\t")
            fields = parts[1].split() if len(parts) >= 2 else []
            if len(fields) != 3 or not fields[1].startswith("Arg1:") or not fields[2].startswith("Arg2:"):
                problem(lineno, MALFORMED_LINE, f"malformed relation line: {line!r}")
                continue
            relations.append(Relation(parts[0], fields[0], fields[1][5:], fields[2][5:]))
        elif kind in "#AMEN*":
            other.append(line)
        else:
            problem(lineno, MALFORMED_LINE, f"unknown annotation line: {line!r}")
    ids = {e.id for e in entities}
    for rel in relations:
        for arg in (rel.arg1, rel.arg2):
            if arg not in ids:
                issues.append(BratIssue(path, None, DANGLING_RELATION, f"relation {rel.id} refers to missing entity {arg}", arg))
    return entities, relations, other, issues


def read_brat(
    ann_path: Union[str, Path],
    labels: Optional[Iterable[str]] = None,
    lenient: bool = False,
    txt_path: Optional[Union[str, Path]] = None,
) -> Tuple[BratDocument, List[BratIssue]]:
    """Read one ``NAME.ann`` and its ``NAME.txt``."""
    ann_path = Path(ann_path)
    txt_path = Path(txt_path) if txt_path else ann_path.with_suffix(".txt")
    if not txt_path.exists():
        # Without the text nothing can be placed: always an error, lenient or not.
        raise BratError(BratIssue(str(ann_path), None, MISSING_TXT, f"no text file {txt_path.name} beside {ann_path.name}"))
    text = _read_text(txt_path)
    ann = _read_text(ann_path)
    entities, relations, other, issues = parse_ann(ann, text, str(ann_path), labels, lenient)
    return BratDocument(ann_path.stem, text, entities, relations, other), issues


def _read_text(path: Path) -> str:
    # newline="" keeps \r\n as two characters: BRAT offsets count every character.
    with open(path, encoding="utf8", newline="") as fh:
        return fh.read()


def format_ann(doc: BratDocument) -> str:
    """Serialise a document's annotation as ``.ann`` text (entities, relations, other lines)."""
    lines = []
    for ent in doc.entities:
        offsets = ";".join(f"{s} {e}" for s, e in ent.fragments)
        lines.append(f"{ent.id}\t{ent.label} {offsets}\t{_column(fragment_text(doc.text, ent.fragments))}")
    for rel in doc.relations:
        lines.append(f"{rel.id}\t{rel.type} Arg1:{rel.arg1} Arg2:{rel.arg2}\t")
    lines.extend(doc.other_lines)
    return "\n".join(lines) + ("\n" if lines else "")


def write_brat(doc: BratDocument, directory: Union[str, Path]) -> Tuple[Path, Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    txt = directory / f"{doc.doc_id}.txt"
    ann = directory / f"{doc.doc_id}.ann"
    with open(txt, "w", encoding="utf8", newline="") as fh:
        fh.write(doc.text)
    with open(ann, "w", encoding="utf8", newline="") as fh:
        fh.write(format_ann(doc))
    return txt, ann


def iter_ann_files(directory: Union[str, Path]) -> List[Path]:
    """``.ann`` files of a folder, sorted; a ``.txt`` without ``.ann`` is an error too."""
    directory = Path(directory)
    anns = sorted(directory.glob("*.ann"))
    orphans = sorted(p for p in directory.glob("*.txt") if not p.with_suffix(".ann").exists())
    if orphans:
        raise BratError(BratIssue(str(orphans[0]), None, "missing_ann", f"no annotation file {orphans[0].stem}.ann beside {orphans[0].name} ({len(orphans)} such files)"))
    return anns
