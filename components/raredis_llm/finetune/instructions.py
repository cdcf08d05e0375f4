"""Alpaca-style instruction data (``{"instruction", "input", "output"}``) from DocBins.

One record per sentence Doc of the sentence-level corpus, sentences without entities
included (their ``output`` is the format's empty answer), in corpus order. ``output`` is
the gold ``doc.ents`` rendered by the shared output format. Each record also keeps
``id`` (``<doc id>:<sentence index>``) so a record can be traced back to the corpus;
training uses only the three Alpaca fields.
"""

import json
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Union

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..corpus import schema
from ..labels import map_label
from ..ner.finetuned import FinetunePrompt
from ..util import file_sha256

ALPACA_KEYS = ("instruction", "input", "output")


def doc_spans(doc: Doc, view: str = "5type", labels: Optional[Iterable[str]] = None):
    """``(start, end, label)`` of ``doc.ents`` in a label view, only the given labels."""
    keep = None if labels is None else set(labels)
    spans = []
    for ent in doc.ents:
        label = map_label(ent.label_, view)
        if keep is None or label in keep:
            spans.append((ent.start_char, ent.end_char, label))
    return spans


def doc_to_record(doc: Doc, prompt: FinetunePrompt, view: str = "5type", index: int = 0) -> Dict[str, str]:
    """The instruction record of one sentence Doc."""
    spans = doc_spans(doc, view, prompt.labels)
    doc_id = doc.user_data.get(schema.DOC_ID)
    sent = doc.user_data.get(schema.SENT_INDEX)
    record = {
        "instruction": prompt.instruction,
        "input": doc.text,
        "output": prompt.render_answer(doc.text, spans),
        "id": f"{doc_id}:{sent}" if doc_id is not None else str(index),
    }
    return record


def docs_to_records(docs: Iterable[Doc], prompt: FinetunePrompt, view: str = "5type") -> List[Dict[str, str]]:
    return [doc_to_record(doc, prompt, view, i) for i, doc in enumerate(docs)]


def read_docbin(path: Union[str, Path], vocab: Optional[Vocab] = None) -> List[Doc]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"DocBin not found: {path} (run the corpus conversion first)")
    return list(DocBin().from_disk(path).get_docs(vocab or Vocab()))


def write_jsonl(records: Iterable[Dict[str, str]], path: Union[str, Path]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def iter_jsonl(path: Union[str, Path]) -> Iterator[Dict[str, str]]:
    """Read instruction records; a bad line raises naming the file and line."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Instruction file not found: {path} (run scripts/make_instructions.py)")
    with open(path, encoding="utf8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as err:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({err})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object")
            missing = [k for k in ALPACA_KEYS if not isinstance(record.get(k), str)]
            if missing:
                raise ValueError(f"{path}:{lineno}: missing or non-string field(s) {missing}")
            yield record


def read_jsonl(path: Union[str, Path]) -> List[Dict[str, str]]:
    return list(iter_jsonl(path))


def build_instruction_files(
    splits: Dict[str, Union[str, Path]],
    output_dir: Union[str, Path],
    prompt: FinetunePrompt,
    view: str = "5type",
) -> Dict[str, Dict[str, object]]:
    """Write ``<output_dir>/<split>.jsonl`` for each ``{split: docbin path}``; return counts."""
    out: Dict[str, Dict[str, object]] = {}
    for split, docbin in splits.items():
        docs = read_docbin(docbin)
        records = docs_to_records(docs, prompt, view)
        target = Path(output_dir) / f"{split}.jsonl"
        write_jsonl(records, target)
        out[split] = {
            "path": str(target),
            "source": str(docbin),
            "records": len(records),
            "without_entities": sum(1 for d in docs if not doc_spans(d, view, prompt.labels)),
            "entities": sum(len(doc_spans(d, view, prompt.labels)) for d in docs),
            "sha256": file_sha256(target),
        }
    return out
