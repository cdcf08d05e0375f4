"""The annotate loop: read, skip what is done, annotate, write as it goes, summarize.

Results are written in input order. Every ``commit_every`` documents the run reaches a
safe point: the DocBin shard (if asked for) is written whole, then the JSON lines and
the error lines are appended, flushed and fsync'ed. A restart reads the output back,
cuts a torn last line, adds the lines of Docs that reached a shard but not the JSONL
(a kill between the two), and skips every document already written or failed, so the
output of an interrupted run equals that of an uninterrupted one.
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

from ..corpus import schema
from ..guard.markup import model_text
from ..util import write_json
from .engines import Engine
from .readers import Record, count_records, read_records
from .writers import DocBinShards, JsonlLog, doc_record

logger = logging.getLogger(__name__)


def errors_path_for(output: Union[str, Path]) -> Path:
    output = Path(output)
    return output.with_name(output.stem + ".errors.jsonl")


def summary_path_for(output: Union[str, Path]) -> Path:
    output = Path(output)
    return output.with_name(output.stem + ".summary.json")


@dataclass
class Outputs:
    """Where a run writes, and what an earlier run left there."""

    output: Path
    errors: Path
    docbin: Optional[Path] = None
    span_extensions: Sequence[str] = ()
    done: Set[str] = field(default_factory=set)
    failed: Set[str] = field(default_factory=set)
    repaired: Dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.log = JsonlLog(self.output)
        self.error_log = JsonlLog(self.errors)
        self.shards = DocBinShards(self.docbin) if self.docbin is not None else None

    def recover(self, retry_failed: bool = False) -> None:
        """Read back what an earlier run wrote (repairing a torn last line)."""
        ids, cut = self.log.recover()
        self.done = set(ids)
        if cut:
            self.repaired["torn_output_line_bytes"] = cut
        if retry_failed and self.errors.exists():
            self.errors.replace(self.errors.with_name(self.errors.name + ".prev"))
        failed, cut = self.error_log.recover()
        self.failed = set(failed)
        if cut:
            self.repaired["torn_error_line_bytes"] = cut
        if self.shards is not None:
            self._recover_shards()

    def _recover_shards(self) -> None:
        in_shards: Set[str] = set()
        missing: List[Dict[str, Any]] = []
        for doc_id, doc in self.shards.docs():
            in_shards.add(doc_id)
            if doc_id not in self.done:  # killed between the shard and the JSON lines
                text = doc.user_data.get(schema.ORIGINAL_TEXT, doc.text)
                missing.append(doc_record(doc, doc_id, text, self.span_extensions))
        lacking = self.done - in_shards
        if lacking:
            raise ValueError(f"{self.docbin} lacks {len(lacking)} documents that {self.output} has "
                             f"(e.g. {sorted(lacking)[:3]}); write a new output or drop --docbin")
        if missing:
            logger.warning("%s: adding %d lines for documents that reached %s before the kill",
                           self.output, len(missing), self.docbin)
            self.log.open().write(missing)
            self.log.close()
            self.done.update(r["id"] for r in missing)
            self.repaired["lines_from_docbin"] = len(missing)

    def open(self) -> None:
        self.log.open()
        self.error_log.open()
        if self.shards is not None:
            self.shards.open()

    def commit(self, lines: List[Dict[str, Any]], errors: List[Dict[str, Any]]) -> None:
        if self.shards is not None:
            self.shards.commit()
        self.log.write(lines)
        self.error_log.write(errors)
        self.log.sync()
        self.error_log.sync()

    def close(self) -> None:
        self.log.close()
        self.error_log.close()


class _Progress:
    def __init__(self, total: Optional[int], enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="doc", dynamic_ncols=True, smoothing=0.1)

    def update(self, failed: int) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if failed:
                self.bar.set_postfix(failed=failed, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def annotate(
    engine: Engine,
    input_path: Union[str, Path],
    output: Union[str, Path],
    *,
    fmt: str = "auto",
    id_field: str = "id",
    text_field: str = "text",
    docbin: Optional[Union[str, Path]] = None,
    errors: Optional[Union[str, Path]] = None,
    summary: Optional[Union[str, Path]] = None,
    commit_every: int = 32,
    span_extensions: Sequence[str] = (),
    retry_failed: bool = False,
    progress: bool = True,
) -> Dict[str, Any]:
    """Annotate every document of ``input_path`` with ``engine``; return the run summary."""
    if commit_every < 1:
        raise ValueError("commit_every must be >= 1")
    outputs = Outputs(Path(output), Path(errors) if errors else errors_path_for(output),
                      Path(docbin) if docbin else None, tuple(span_extensions))
    outputs.recover(retry_failed=retry_failed)
    already = len(outputs.done) + len(outputs.failed)
    total = count_records(input_path, fmt)
    counts = {"input": 0, "done": 0, "failed": 0, "skipped_done": 0, "skipped_failed": 0}
    records: Dict[int, Record] = {}
    seen: Set[str] = set()
    early: List[Tuple[int, str]] = []  # input errors, reported in order with the results

    def items() -> Iterator[Tuple[int, str]]:
        for seq, rec in enumerate(read_records(input_path, fmt, id_field, text_field)):
            counts["input"] += 1
            if rec.id in seen:
                if rec.id in outputs.failed:
                    counts["skipped_failed"] += 1
                    continue
                rec = Record(rec.id, None, f"duplicate id {rec.id!r}: an earlier document has it")
            else:
                seen.add(rec.id)
                if rec.id in outputs.done:
                    counts["skipped_done"] += 1
                    continue
                if rec.id in outputs.failed:
                    counts["skipped_failed"] += 1
                    continue
            records[seq] = rec
            if rec.error is not None:
                early.append((seq, rec.error))
                continue
            yield seq, model_text(rec.text)

    lines: List[Dict[str, Any]] = []
    errs: List[Dict[str, Any]] = []
    bar = _Progress(max(total - already, 0), progress)
    start = time.perf_counter()
    outputs.open()

    def take(seq: int, doc, error: Optional[str]) -> None:
        rec = records.pop(seq)
        if error is None:
            lines.append(doc_record(doc, rec.id, rec.text, span_extensions))
            if outputs.shards is not None:
                outputs.shards.add(doc, rec.id, rec.text)
            counts["done"] += 1
        else:
            errs.append({"id": rec.id, "error": error})
            counts["failed"] += 1
        bar.update(counts["failed"])
        if len(lines) + len(errs) >= commit_every:
            outputs.commit(lines, errs)
            lines.clear()
            errs.clear()

    def flush_early(before: int) -> None:
        while early and early[0][0] < before:
            seq, error = early.pop(0)
            take(seq, None, error)

    try:
        for seq, doc, error in engine.run(items()):
            flush_early(seq)
            take(seq, doc, error)
        flush_early(float("inf"))
    finally:
        outputs.commit(lines, errs)
        outputs.close()
        bar.close()
    wall = time.perf_counter() - start
    result: Dict[str, Any] = {
        "input_path": str(input_path), "output": str(outputs.output), "errors": str(outputs.errors),
        "docbin": str(outputs.docbin) if outputs.docbin else None,
        **counts, "repaired": outputs.repaired, "engine": engine.stats(),
        "wall_s": round(wall, 3), "docs_per_s": round((counts["done"] + counts["failed"]) / wall, 2) if wall else None,
    }
    write_json(result, Path(summary) if summary else summary_path_for(output))
    return result
