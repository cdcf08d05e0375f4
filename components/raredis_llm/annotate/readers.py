"""Input documents, streamed one at a time: a folder of ``.txt`` files, a JSONL file
(``{"id": ..., "text": ...}`` a line) or a DocBin (a ``.spacy`` file or a folder of them).

A document that cannot be read (not UTF-8, a line that is not JSON, no id, a text that
is not a string) becomes a :class:`Record` with ``error`` set and the reading goes on;
the runner writes it to the errors file.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Union

from spacy.tokens import DocBin
from spacy.vocab import Vocab

from ..corpus import schema

FORMATS = ("txt", "jsonl", "docbin")


@dataclass
class Record:
    """One input document: its id, its text, and why it cannot be annotated (if so)."""

    id: str
    text: Optional[str]
    error: Optional[str] = None


def detect_format(path: Union[str, Path]) -> str:
    """``txt`` (a folder of .txt or one .txt), ``jsonl`` or ``docbin`` (.spacy, or a folder of .spacy)."""
    path = Path(path)
    if path.is_dir():
        if any(path.rglob("*.txt")):
            return "txt"
        if any(path.glob("*.spacy")):
            return "docbin"
        raise ValueError(f"{path}: no .txt or .spacy files in this folder")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "txt"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".spacy":
        return "docbin"
    raise ValueError(f"{path}: cannot tell the input format from the name; pass --format {'|'.join(FORMATS)}")


def _txt_files(path: Path) -> List[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*.txt") if p.is_file())


def _docbin_files(path: Path) -> List[Path]:
    return [path] if path.is_file() else sorted(path.glob("*.spacy"))


def read_txt(path: Path) -> Iterator[Record]:
    """One record per ``.txt`` file (sorted); id = the path under ``path`` without ``.txt``."""
    root = path if path.is_dir() else path.parent
    for file in _txt_files(path):
        doc_id = file.relative_to(root).with_suffix("").as_posix()
        try:
            with open(file, encoding="utf-8", newline="") as f:
                yield Record(doc_id, f.read())
        except (UnicodeDecodeError, OSError) as err:
            yield Record(doc_id, None, f"{file}: cannot read as UTF-8 text ({err})")


def read_jsonl(path: Path, id_field: str = "id", text_field: str = "text") -> Iterator[Record]:
    """One record per non-blank line; a bad line becomes an error record ``<file>:<line>``."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as err:
                yield Record(where, None, f"{path}, line {lineno}: not a JSON object ({err})")
                continue
            if not isinstance(obj, dict):
                yield Record(where, None, f"{path}, line {lineno}: not a JSON object")
                continue
            doc_id = obj.get(id_field)
            if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or doc_id == "":
                yield Record(where, None, f"{path}, line {lineno}: no usable {id_field!r} (got {doc_id!r})")
                continue
            text = obj.get(text_field)
            if not isinstance(text, str):
                yield Record(str(doc_id), None, f"{path}, line {lineno}: {text_field!r} is not a string "
                                                f"(got {type(text).__name__})")
                continue
            yield Record(str(doc_id), text)


def docbin_id(user_data: dict, fallback: str) -> str:
    """The id a DocBin Doc carries: ours, else the RareDis document id (and sentence), else ``fallback``."""
    if schema.ANNOTATE_ID in user_data:
        return str(user_data[schema.ANNOTATE_ID])
    doc_id = user_data.get(schema.DOC_ID)
    if doc_id is None:
        return fallback
    sent = user_data.get(schema.SENT_INDEX, -1)
    return str(doc_id) if sent in (None, -1) else f"{doc_id}#{sent}"


def read_docbin(path: Path) -> Iterator[Record]:
    """One record per Doc, one ``.spacy`` file in memory at a time (a fresh vocab for each)."""
    for file in _docbin_files(path):
        try:
            docbin = DocBin(store_user_data=True).from_disk(file)
        except Exception as err:  # a damaged file is reported and skipped as a whole
            yield Record(file.name, None, f"{file}: not a readable DocBin ({type(err).__name__}: {err})")
            continue
        for i, doc in enumerate(docbin.get_docs(Vocab())):
            text = doc.user_data.get(schema.ORIGINAL_TEXT, doc.text)
            yield Record(docbin_id(doc.user_data, f"{file.stem}:{i}"), text)


def read_records(path: Union[str, Path], fmt: str = "auto", id_field: str = "id",
                 text_field: str = "text") -> Iterator[Record]:
    """Stream the documents of ``path`` in a fixed order."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "txt":
        return read_txt(path)
    if fmt == "jsonl":
        return read_jsonl(path, id_field, text_field)
    if fmt == "docbin":
        return read_docbin(path)
    raise ValueError(f"unknown input format {fmt!r}; use one of {FORMATS}")


def count_records(path: Union[str, Path], fmt: str = "auto") -> int:
    """How many records :func:`read_records` will yield (one quick pass; for the progress bar)."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "txt":
        return len(_txt_files(path))
    if fmt == "jsonl":
        with open(path, "rb") as f:
            return sum(1 for raw in f if raw.strip())
    total = 0
    for file in _docbin_files(path):
        try:
            total += len(DocBin().from_disk(file))
        except Exception:
            total += 1
    return total
