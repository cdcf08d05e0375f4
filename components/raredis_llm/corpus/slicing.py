"""Cut a converted corpus down to its first N documents per split (for smoke runs).

Input and output share the converter's layout::

    {split}.spacy         sentence-level DocBin (user_data DOC_ID on every Doc)
    docs/{split}.spacy    document-level DocBin
    splits.json           {"policy": ..., "documents": {split: [doc ids]}}

For each split the first ``n_docs`` documents in file order are kept (of
``docs/{split}.spacy`` when it exists, else the first distinct doc ids of the sentence
file), and exactly the sentence Docs of those documents, in their original order.
Deterministic: no randomness, same input gives byte-identical output.
"""

import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import spacy
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from ..corpus.schema import DOC_ID

PathLike = Union[str, Path]


def _load(path: Path, vocab: Vocab) -> List[Doc]:
    try:
        return list(DocBin().from_disk(path).get_docs(vocab))
    except Exception as err:  # corrupt or non-DocBin file
        raise ValueError(f"{path}: cannot read as a spaCy DocBin ({err})") from err


def _doc_id(doc: Doc, path: Path, index: int) -> str:
    doc_id = doc.user_data.get(DOC_ID)
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError(
            f"{path}: Doc #{index} ({doc.text[:40]!r}...) has no user_data[{DOC_ID!r}]; "
            "slice_corpus needs the converter's output (see raredis_llm/corpus/schema.py)"
        )
    return doc_id


def _first_ids(docs: Iterable[Doc], path: Path, n_docs: int) -> List[str]:
    ids: List[str] = []
    for i, doc in enumerate(docs):
        doc_id = _doc_id(doc, path, i)
        if doc_id not in ids:
            if len(ids) == n_docs:
                break
            ids.append(doc_id)
    return ids


def _write(docs: List[Doc], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs, store_user_data=True).to_disk(path)


def slice_split(
    in_dir: Path, out_dir: Path, split: str, n_docs: int, vocab: Vocab
) -> Dict[str, object]:
    """Slice one split; returns {"documents": [ids], "sentences": int}."""
    sent_path = in_dir / f"{split}.spacy"
    doc_path = in_dir / "docs" / f"{split}.spacy"
    sents = _load(sent_path, vocab)
    if doc_path.exists():
        full_docs = _load(doc_path, vocab)
        kept_docs = full_docs[:n_docs]
        ids = [_doc_id(doc, doc_path, i) for i, doc in enumerate(kept_docs)]
        _write(kept_docs, out_dir / "docs" / f"{split}.spacy")
    else:
        ids = _first_ids(sents, sent_path, n_docs)
    wanted = set(ids)
    kept_sents = [s for i, s in enumerate(sents) if _doc_id(s, sent_path, i) in wanted]
    found = {s.user_data[DOC_ID] for s in kept_sents}
    missing = [d for d in ids if d not in found]
    if missing:
        raise ValueError(f"{sent_path}: no sentence Docs for documents {missing} of {doc_path}")
    _write(kept_sents, out_dir / f"{split}.spacy")
    return {"documents": ids, "sentences": len(kept_sents)}


def slice_corpus(
    in_dir: PathLike,
    out_dir: PathLike,
    n_docs: int = 8,
    splits: Optional[Iterable[str]] = None,
) -> Dict[str, Dict[str, object]]:
    """Write the first ``n_docs`` documents of every split of ``in_dir`` to ``out_dir``.

    splits: split names to slice (default: every ``*.spacy`` at the top of ``in_dir``).
    Returns {split: {"documents": [ids], "sentences": int}}.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if n_docs < 1:
        raise ValueError(f"n_docs must be >= 1, got {n_docs}")
    if in_dir.resolve() == out_dir.resolve():
        raise ValueError(f"Output folder {out_dir} is the input folder; choose another")
    names = list(splits) if splits is not None else sorted(p.stem for p in in_dir.glob("*.spacy"))
    if not names:
        raise ValueError(f"{in_dir}: no sentence-level DocBins ({{split}}.spacy) found")
    for name in names:
        if not (in_dir / f"{name}.spacy").exists():
            raise ValueError(f"{in_dir / (name + '.spacy')}: split {name!r} not found")
    vocab = spacy.blank("en").vocab
    result = {name: slice_split(in_dir, out_dir, name, n_docs, vocab) for name in names}
    policy = f"first {n_docs} documents of each split of {in_dir} (slice_corpus)"
    splits_json = {"policy": policy, "documents": {k: v["documents"] for k, v in result.items()}}
    (out_dir / "splits.json").write_text(json.dumps(splits_json, indent=2))
    return result
