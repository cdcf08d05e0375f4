"""Predictions made elsewhere, scored by the same harness: a BRAT folder or a token/tag CSV.

Both are read against the gold sentence Docs (``corpus/test.spacy``: each knows its
document id and character offset) and turned into one predicted Doc per gold sentence:

* BRAT (``<doc id>.ann``, ``.txt`` optional): offsets in the document text; the entities go
  through the converter's projection policy (``corpus/project.py``: non-target labels and
  discontinuous entities out, nested ones to the longer span), so the gold ``.ann`` files
  score 1.0. Labels other than RareDis's are counted (``unknown_label:<label>``) and dropped.
* CSV/TSV with a header naming ``doc_id``, ``token`` and ``tag`` (IOB2: ``O``, ``B-X``,
  ``I-X``) and optionally ``start`` (character offset in the document). Without ``start``
  the tokens are found in the document text in order. Tags are moved onto the gold tokens
  (a gold token takes the tag of the token its first character falls in) and kept as given
  for seqeval's default mode; ``doc.ents`` are their strict IOB2 chunks.

Every document of the gold Docs needs predictions (a clear error names those without),
unless ``allow_missing``: then they count as predicting nothing.
"""

import csv
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..corpus import schema
from ..corpus.brat import BratError, BratIssue, _read_text, parse_ann
from ..corpus.docs import _trimmed, tokenize_at
from ..corpus.project import project_entities
from ..labels import ALL_LABELS, LABELS
from .evaluate import metrics_record, sample_docs, write_metrics
from .seqeval_metrics import tag_entities

CSV_SUFFIXES = (".csv", ".tsv")
CSV_COLUMNS = ("doc_id", "token", "tag")


def predictions_kind(path: Union[str, Path]) -> Optional[str]:
    """``"brat"`` (a folder of ``.ann`` files), ``"csv"`` (a ``.csv``/``.tsv`` file) or None."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in CSV_SUFFIXES:
        return "csv"
    if path.is_dir() and not (path / "config.cfg").exists() and any(path.glob("*.ann")):
        return "brat"
    return None


def document_texts(gold_docs: Sequence[Doc]) -> Dict[str, str]:
    """The text of each document, rebuilt from its sentence Docs (gaps as spaces)."""
    pieces: Dict[str, List[Tuple[int, str]]] = defaultdict(list)
    for i, doc in enumerate(gold_docs):
        doc_id = doc.user_data.get(schema.DOC_ID)
        if doc_id is None or schema.CHAR_OFFSET not in doc.user_data:
            raise ValueError(f"Gold Doc #{i} has no document id and offset: outside predictions need the "
                             "sentence Docs written by `spacy project run convert`")
        pieces[doc_id].append((int(doc.user_data[schema.CHAR_OFFSET]), doc.text))
    out = {}
    for doc_id, parts in pieces.items():
        chars: List[str] = []
        for offset, text in sorted(parts):
            if len(chars) < offset:
                chars.extend(" " * (offset - len(chars)))
            chars[offset:offset + len(text)] = list(text)
        out[doc_id] = "".join(chars)
    return out


def _check_missing(gold_ids: Sequence[str], have: set, source: Path, allow_missing: bool, stats: Counter) -> None:
    missing = sorted(set(gold_ids) - have)
    stats["documents_without_predictions"] = len(missing)
    if missing and not allow_missing:
        raise ValueError(f"{source}: no predictions for {len(missing)} of {len(set(gold_ids))} documents "
                         f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); pass "
                         "--allow-missing to score them as predicting nothing")


def _sentence_index(gold_docs: Sequence[Doc]) -> Dict[str, List[Tuple[int, int, int]]]:
    """``{doc id: [(start, end, position in gold_docs)]}`` sorted by start."""
    out: Dict[str, List[Tuple[int, int, int]]] = defaultdict(list)
    for i, doc in enumerate(gold_docs):
        offset = int(doc.user_data[schema.CHAR_OFFSET])
        out[doc.user_data[schema.DOC_ID]].append((offset, offset + len(doc.text), i))
    for rows in out.values():
        rows.sort()
    return out


def brat_predictions(
    folder: Union[str, Path], gold_docs: Sequence[Doc], nlp: Language, texts: Optional[Dict[str, str]] = None,
    allow_missing: bool = False,
) -> Tuple[List[Doc], dict]:
    """One predicted Doc per gold Doc from ``<doc id>.ann`` files; returns ``(docs, stats)``.

    ``texts`` (default: rebuilt from ``gold_docs``) check the ``.ann`` text column when the
    folder has no ``.txt``; a ``.txt`` that differs from the gold text is an error.
    """
    folder = Path(folder)
    texts = texts if texts is not None else document_texts(gold_docs)
    sentences = _sentence_index(gold_docs)
    stats: Counter = Counter()
    _check_missing(list(sentences), {p.stem for p in folder.glob("*.ann")}, folder, allow_missing, stats)
    per_sentence: Dict[int, List[Tuple[int, int, str]]] = defaultdict(list)
    for doc_id, rows in sentences.items():
        ann_path = folder / f"{doc_id}.ann"
        if not ann_path.exists():
            continue
        text = texts[doc_id]
        txt_path = ann_path.with_suffix(".txt")
        if txt_path.exists():
            own = _read_text(txt_path)
            if any(own[s:e] != text[s:e] for s, e, _ in rows):
                raise BratError(BratIssue(str(txt_path), None, "text_mismatch",
                                          f"{txt_path.name} is not the text of gold document {doc_id}"))
            text = own
        entities, _, _, _ = parse_ann(_read_text(ann_path), text, str(ann_path))
        stats.update(f"unknown_label:{e.label}" for e in entities if e.label not in ALL_LABELS)
        kept, reasons = project_entities(entities, LABELS)
        stats.update(f"dropped_{r}" for r in reasons.values())
        starts = [s for s, _, _ in rows]
        for ent in kept:
            start, end = _trimmed(text, ent.start, ent.end)
            k = bisect_right(starts, start) - 1
            if k < 0 or end > rows[k][1]:
                stats["dropped_outside_sentence"] += 1
                continue
            offset, _, position = rows[k]
            per_sentence[position].append((start - offset, end - offset, ent.label))
        stats["entities"] += len(kept)
    docs = []
    for i, gold in enumerate(gold_docs):
        ents = [(s, e, label) for s, e, label in per_sentence.get(i, []) if s < e]
        doc = tokenize_at(nlp, gold.text, [x for s, e, _ in ents for x in (s, e)])
        doc.set_ents([doc.char_span(s, e, label=label) for s, e, label in ents], default="outside")
        _copy_ids(gold, doc)
        docs.append(doc)
    return docs, dict(sorted(stats.items()))


def _copy_ids(gold: Doc, doc: Doc) -> None:
    for key in (schema.DOC_ID, schema.SENT_INDEX, schema.CHAR_OFFSET):
        if key in gold.user_data:
            doc.user_data[key] = gold.user_data[key]


def _check_tag(tag: str, where: str) -> str:
    tag = tag.strip()
    if tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2):
        return tag
    raise ValueError(f"{where}: tag {tag!r} is not IOB2 (O, B-<type>, I-<type>)")


def read_token_rows(path: Union[str, Path], texts: Dict[str, str]) -> Dict[str, List[Tuple[int, int, str]]]:
    """``{doc id: [(start, end, tag)]}`` from a token/tag CSV, each token placed in its
    document's text (see the module docstring). Rows of documents not in ``texts`` are skipped."""
    path = Path(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    out: Dict[str, List[Tuple[int, int, str]]] = defaultdict(list)
    cursor: Dict[str, int] = defaultdict(int)
    with path.open(encoding="utf8", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: the header must name {list(CSV_COLUMNS)} (and optionally 'start'); "
                             f"missing {missing} in {reader.fieldnames}")
        has_start = "start" in reader.fieldnames
        for row in reader:
            where = f"{path}:{reader.line_num}"
            doc_id, token = row["doc_id"], row["token"]
            if doc_id not in texts or not token:
                continue
            tag = _check_tag(row["tag"] or "", where)
            text = texts[doc_id]
            if has_start and row["start"] not in (None, ""):
                start = int(row["start"])
                if text[start:start + len(token)] != token:
                    raise ValueError(f"{where}: token {token!r} is not at offset {start} of {doc_id} "
                                     f"(the text there is {text[start:start + len(token)]!r})")
            else:
                start = text.find(token, cursor[doc_id])
                if start < 0 or text[cursor[doc_id]:start].strip():
                    raise ValueError(f"{where}: token {token!r} does not follow the previous token of {doc_id} "
                                     f"(next text: {text[cursor[doc_id]:cursor[doc_id] + 40]!r})")
            cursor[doc_id] = start + len(token)
            out[doc_id].append((start, start + len(token), tag))
    return out


def tags_on_gold(gold: Doc, offset: int, tokens: Sequence[Tuple[int, int, str]], starts: Sequence[int]) -> List[str]:
    """The tag of each gold token: that of the outside token its first character is in
    (``B-`` becomes ``I-`` for the second and later gold tokens inside one outside token)."""
    tags = []
    for tok in gold:
        pos = offset + tok.idx
        k = bisect_right(starts, pos) - 1
        if k < 0 or pos >= tokens[k][1] or tok.is_space:
            tags.append("O")
            continue
        start, _, tag = tokens[k]
        tags.append("I-" + tag[2:] if tag.startswith("B-") and start < pos else tag)
    return tags


def csv_predictions(
    path: Union[str, Path], gold_docs: Sequence[Doc], nlp: Language, texts: Optional[Dict[str, str]] = None,
    allow_missing: bool = False,
) -> Tuple[List[Doc], dict]:
    """One predicted Doc per gold Doc (on the gold tokens) from a token/tag CSV."""
    texts = texts if texts is not None else document_texts(gold_docs)
    rows = read_token_rows(path, texts)
    stats: Counter = Counter()
    gold_ids = [g.user_data[schema.DOC_ID] for g in gold_docs]
    _check_missing(gold_ids, set(rows), Path(path), allow_missing, stats)
    starts = {doc_id: [s for s, _, _ in toks] for doc_id, toks in rows.items()}
    docs = []
    for gold in gold_docs:
        doc_id = gold.user_data[schema.DOC_ID]
        doc = Doc(nlp.vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold])
        tags = (tags_on_gold(gold, int(gold.user_data[schema.CHAR_OFFSET]), rows[doc_id], starts[doc_id])
                if doc_id in rows else ["O"] * len(gold))
        ents = sorted(tag_entities(tags, "strict"), key=lambda e: e[1])
        doc.set_ents([Span(doc, s, e, label=label) for label, s, e in ents], default="outside")
        doc.user_data[schema.PRED_TAGS] = tags
        _copy_ids(gold, doc)
        stats["tagged_tokens"] += sum(1 for t in tags if t != "O")
        docs.append(doc)
    stats["entities"] = sum(len(d.ents) for d in docs)
    return docs, dict(sorted(stats.items()))


def read_predictions(
    path: Union[str, Path], gold_docs: Sequence[Doc], nlp: Language, texts: Optional[Dict[str, str]] = None,
    allow_missing: bool = False,
) -> Tuple[List[Doc], dict]:
    """BRAT folder or token/tag CSV -> ``(predicted Docs aligned with gold_docs, stats)``."""
    kind = predictions_kind(path)
    if kind == "brat":
        return brat_predictions(path, gold_docs, nlp, texts, allow_missing)
    if kind == "csv":
        return csv_predictions(path, gold_docs, nlp, texts, allow_missing)
    raise ValueError(f"{path} is neither a folder of BRAT .ann files nor a .csv/.tsv file of token tags")


def evaluate_predictions(
    predictions: Union[str, Path],
    gold_docs: Sequence[Doc],
    nlp: Language,
    system: str,
    n_docs: Optional[int] = None,
    seed: int = 0,
    corpus: Optional[str] = None,
    allow_missing: bool = False,
    max_samples: int = 20,
    output: Optional[Union[str, Path]] = None,
    errors_output: Optional[Union[str, Path]] = None,
) -> dict:
    """Score outside predictions on all gold Docs or on the seeded sample of ``n_docs``
    (the sample every system draws); with ``output``, write the metrics file."""
    indices, docs = sample_docs(gold_docs, n_docs, seed)
    start = time.perf_counter()
    preds, stats = read_predictions(predictions, docs, nlp, document_texts(gold_docs), allow_missing)
    metrics, error_docs = metrics_record(
        preds, docs, system, model=str(predictions), corpus=corpus, pipeline=[f"outside:{predictions_kind(predictions)}"],
        max_samples=max_samples, seed=seed, indices=indices, n_docs_total=len(gold_docs),
        speed_stats={"read_s": round(time.perf_counter() - start, 3)})
    metrics["outside"] = stats
    if output is not None:
        write_metrics(metrics, output, error_docs, errors_output)
    return metrics
