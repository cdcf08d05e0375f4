"""Read HPO's disease annotation file (``phenotype.hpoa``) into diseases.

The file is tab-separated, ``#`` comment lines first, then a header row and one row per
(disease, HPO term) annotation with 12 columns (``database_id``, ``disease_name``,
``qualifier``, ``hpo_id``, ``reference``, ``evidence``, ``onset``, ``frequency``, ``sex``,
``modifier``, ``aspect``, ``biocuration``). Each disease keeps its name and its phenotypes
(aspect ``P``, qualifier not ``NOT``) with a frequency in [0, 1] (HPO frequency terms,
``n/m`` or ``x%``; unknown: None). A missing header, a row with the wrong number of
columns (a file cut short mid-line), a malformed id or aspect, or one disease id with two
names raises :class:`SourceFileError` with the file and line.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Union

from .errors import SourceFileError

COLUMNS = ("database_id", "disease_name", "qualifier", "hpo_id", "reference", "evidence",
           "onset", "frequency", "sex", "modifier", "aspect", "biocuration")
ASPECTS = {"P", "I", "C", "M", "H"}
#: HPO frequency terms -> a representative frequency (middle of the range).
FREQUENCY_TERMS = {"HP:0040280": 1.0, "HP:0040281": 0.9, "HP:0040282": 0.55,
                   "HP:0040283": 0.17, "HP:0040284": 0.025, "HP:0040285": 0.0}
_DB_ID = re.compile(r"^[A-Z]+:[A-Za-z0-9_.-]+$")
_HP_ID = re.compile(r"^HP:\d{7}$")


@dataclass
class Disease:
    id: str
    name: str
    #: HPO id -> frequency (None: not given); aspect P, qualifier not NOT
    phenotypes: Dict[str, Optional[float]] = field(default_factory=dict)
    other_names: List[str] = field(default_factory=list)
    line: int = 0  # first line of the disease


@dataclass
class Annotations:
    path: str
    meta: Dict[str, str]
    diseases: Dict[str, Disease]

    @property
    def version(self) -> str:
        return self.meta.get("version", "")


def parse_frequency(value: str) -> Optional[float]:
    """``HP:0040281`` / ``3/7`` / ``45%`` -> a fraction; ``""`` or unknown -> None."""
    value = value.strip()
    if not value:
        return None
    if value in FREQUENCY_TERMS:
        return FREQUENCY_TERMS[value]
    if "/" in value:
        num, _, den = value.partition("/")
        if num.isdigit() and den.isdigit() and int(den) > 0:
            return int(num) / int(den)
    if value.endswith("%"):
        try:
            return float(value[:-1]) / 100
        except ValueError:
            return None
    return None


def read_hpoa(path: Union[str, Path]) -> Annotations:
    """Parse ``path``; see the module docstring for what is checked."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Annotation file not found: {path}")
    meta: Dict[str, str] = {}
    diseases: Dict[str, Disease] = {}
    header_seen = False
    try:
        fh = path.open(encoding="utf8")
    except OSError as err:  # pragma: no cover - permissions
        raise SourceFileError(path, None, str(err)) from err
    with fh:
        line_no = 0
        for line_no, raw in enumerate(fh, start=1):
            if not raw.endswith("\n") and raw.strip():
                # the last line of a complete file ends with a newline
                raise SourceFileError(path, line_no, "last line has no line end (file cut short?)")
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            if line.startswith("#"):
                key, sep, value = line[1:].partition(":")
                if sep:
                    meta[key.strip()] = value.strip().strip('"')
                continue
            cols = line.split("\t")
            if not header_seen:
                if tuple(c.strip() for c in cols) != COLUMNS:
                    raise SourceFileError(path, line_no, f"expected the header row {'/'.join(COLUMNS)}, got {line[:120]!r}")
                header_seen = True
                continue
            if len(cols) != len(COLUMNS):
                raise SourceFileError(path, line_no, f"{len(cols)} columns, expected {len(COLUMNS)} (file cut short or malformed row)")
            row = dict(zip(COLUMNS, cols))
            db_id, name, hpo_id, aspect = row["database_id"], row["disease_name"].strip(), row["hpo_id"], row["aspect"]
            if not _DB_ID.match(db_id):
                raise SourceFileError(path, line_no, f"malformed database_id {db_id!r}")
            if not _HP_ID.match(hpo_id):
                raise SourceFileError(path, line_no, f"malformed hpo_id {hpo_id!r}")
            if aspect not in ASPECTS:
                raise SourceFileError(path, line_no, f"unknown aspect {aspect!r} (expected one of {sorted(ASPECTS)})")
            if not name:
                raise SourceFileError(path, line_no, f"{db_id} has an empty disease_name")
            disease = diseases.get(db_id)
            if disease is None:
                disease = diseases[db_id] = Disease(id=db_id, name=name, line=line_no)
            elif name != disease.name and name not in disease.other_names:
                disease.other_names.append(name)
            if aspect == "P" and row["qualifier"].strip() != "NOT":
                freq = parse_frequency(row["frequency"])
                old = disease.phenotypes.get(hpo_id)
                disease.phenotypes[hpo_id] = freq if old is None else max(old, freq or 0.0)
    if not header_seen:
        raise SourceFileError(path, line_no or None, "no header row (empty or truncated file)")
    if not diseases:
        raise SourceFileError(path, line_no or None, "no annotation rows (empty or truncated file)")
    return Annotations(path=str(path), meta=meta, diseases=diseases)
