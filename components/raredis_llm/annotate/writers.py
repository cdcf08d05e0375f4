"""What ``annotate`` writes: one JSON line per document, one per failed document, and
optionally the annotated Docs as DocBin shards; and how a restart reads them back.

Output line: ``{"id": ..., "ents": [{"start", "end", "label", "text", "kb_id"?, "ent_id"?,
"_"?: {extension: value}}]}``. ``start``/``end`` are character offsets into the input
text, ``text`` is the input's characters there, ``_`` holds the span extensions that
hold a value (e.g. negspacy's ``negex``, its default when not set), any other stored on
the entity, and the getters asked for by name. Error line:
``{"id": ..., "error": "..."}``.

Files are only appended to. A restart cuts a last line that a kill left half-written
(and says so); any other damaged line stops the run with the file and line named.
"""

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from ..corpus import schema

logger = logging.getLogger(__name__)

SHARD_SUFFIX = ".spacy"
_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def attribute_extensions() -> List[str]:
    """Registered span extensions that hold a value (not a getter or a method), e.g. ``negex``."""
    from spacy.tokens.underscore import Underscore

    return sorted(name for name, (_, method, getter, _) in Underscore.span_extensions.items()
                  if method is None and getter is None)


def _set_span_extensions(doc: Doc) -> Dict[Tuple[int, int], Dict[str, Any]]:
    """``(start_char, end_char) -> {name: value}`` of the span extensions stored on ``doc``."""
    out: Dict[Tuple[int, int], Dict[str, Any]] = {}
    for key, value in doc.user_data.items():
        if isinstance(key, tuple) and len(key) == 4 and key[0] == "._." and key[2] is not None:
            out.setdefault((key[2], key[3]), {})[key[1]] = value
    return out


def entity_record(ent: Span, text: str, stored: Dict[str, Any], span_extensions: Sequence[str] = ()) -> Dict[str, Any]:
    """The JSON form of one entity (``text`` is the input text the offsets refer to)."""
    rec: Dict[str, Any] = {"start": ent.start_char, "end": ent.end_char, "label": ent.label_,
                           "text": text[ent.start_char:ent.end_char]}
    if ent.kb_id_:
        rec["kb_id"] = ent.kb_id_
    if ent.id_:
        rec["ent_id"] = ent.id_
    ext = {name: value for name, value in stored.items() if _jsonable(value)}
    for name in (*attribute_extensions(), *span_extensions):
        if name not in ext and ent.has_extension(name):
            value = ent._.get(name)
            if _jsonable(value):
                ext[name] = value
    if ext:
        rec["_"] = {name: ext[name] for name in sorted(ext)}
    return rec


def doc_record(doc: Doc, doc_id: str, text: Optional[str] = None, span_extensions: Sequence[str] = ()) -> Dict[str, Any]:
    """The output line of one annotated document."""
    text = doc.text if text is None else text
    stored = _set_span_extensions(doc)
    ents = [entity_record(ent, text, stored.get((ent.start_char, ent.end_char), {}), span_extensions)
            for ent in doc.ents]
    return {"id": doc_id, "ents": ents}


def dumps(record: Dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens folders
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JsonlLog:
    """An append-only JSONL file of records that each carry an ``id``."""

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        self._file = None

    def recover(self) -> Tuple[List[str], int]:
        """The ids already in the file, in order, and how many bytes of a torn last line were cut."""
        if not self.path.exists():
            return [], 0
        ids: List[str] = []
        good = 0
        with open(self.path, "rb") as f:
            data_end = f.seek(0, os.SEEK_END)
            f.seek(0)
            for lineno, raw in enumerate(f, 1):
                if not raw.endswith(b"\n"):
                    break  # the torn last line
                try:
                    ids.append(str(json.loads(raw.decode("utf-8"))["id"]))
                except (UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
                    raise ValueError(f"{self.path}, line {lineno}: damaged ({err}); only a torn last line "
                                     "is repaired automatically - fix or remove this line") from None
                good += len(raw)
        cut = data_end - good
        if cut:
            logger.warning("%s: cutting a half-written last line (%d bytes); its document is done again",
                           self.path, cut)
            with open(self.path, "r+b") as f:
                f.truncate(good)
                os.fsync(f.fileno())
        return ids, cut

    def open(self) -> "JsonlLog":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "ab")
        return self

    def write(self, records: Iterable[Dict[str, Any]]) -> None:
        for record in records:
            self._file.write(dumps(record))
        self._file.flush()

    def sync(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self.sync()
            self._file.close()
            self._file = None


def portable_user_data(doc: Doc) -> Dict[Any, Any]:
    """``doc.user_data`` without values that are not plain data (tensors, ``trf_data``)."""
    def plain(value: Any) -> bool:
        if isinstance(value, _PLAIN):
            return True
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, _PLAIN) and plain(v) for k, v in value.items())
        return False

    return {k: v for k, v in doc.user_data.items() if plain(v)}


class DocBinShards:
    """Annotated Docs as numbered DocBin files in a folder, each written whole (temp + rename)."""

    def __init__(self, folder: Union[str, Path]):
        self.folder = Path(folder)
        self._docbin: Optional[DocBin] = None

    def shards(self) -> List[Path]:
        return sorted(self.folder.glob(f"*{SHARD_SUFFIX}")) if self.folder.exists() else []

    def docs(self) -> Iterator[Tuple[str, Doc]]:
        """``(id, Doc)`` of every Doc already written, shard by shard."""
        for shard in self.shards():
            for i, doc in enumerate(DocBin(store_user_data=True).from_disk(shard).get_docs(Vocab())):
                yield str(doc.user_data.get(schema.ANNOTATE_ID, f"{shard.stem}:{i}")), doc

    def open(self) -> "DocBinShards":
        self.folder.mkdir(parents=True, exist_ok=True)
        for tmp in self.folder.glob("*.tmp"):
            tmp.unlink()
        return self

    def add(self, doc: Doc, doc_id: str, text: str) -> None:
        if self._docbin is None:
            self._docbin = DocBin(store_user_data=True)
        user_data = portable_user_data(doc)
        user_data[schema.ANNOTATE_ID] = doc_id
        if text != doc.text:
            user_data[schema.ORIGINAL_TEXT] = text
        saved, doc.user_data = doc.user_data, user_data
        try:
            self._docbin.add(doc)
        finally:
            doc.user_data = saved

    def commit(self) -> None:
        """Write the Docs added since the last commit as the next shard."""
        if self._docbin is None or len(self._docbin) == 0:
            return
        shards = self.shards()
        number = int(shards[-1].stem) + 1 if shards else 0
        final = self.folder / f"{number:06d}{SHARD_SUFFIX}"
        tmp = final.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(self._docbin.to_bytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        fsync_dir(self.folder)
        self._docbin = None
