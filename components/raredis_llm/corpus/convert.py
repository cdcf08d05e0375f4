"""Convert a RareDis folder into DocBins plus a conversion report.

Output layout (``output_dir``)::

    {split}.spacy         sentence-level DocBin (one Doc per sentence)
    docs/{split}.spacy    document-level DocBin
    splits.json           which documents went where (and the policy used)
    conversion_report.json
"""

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import spacy
from spacy.tokens import DocBin
from tqdm import tqdm

from ..labels import ALL_LABELS, LABELS, MERGE_MAP
from . import schema
from .brat import BratError, BratIssue, read_brat
from .docs import brat_to_docs
from .project import DEFAULT_PROJECTION, PROJECTIONS
from .segment import make_sentencizer
from .sources import has_official_test, plan_splits, unpack


def convert_files(
    ann_files: Iterable[Path],
    merge_skin: bool = False,
    lenient: bool = False,
    labels: Iterable[str] = ALL_LABELS,
    progress: Optional[str] = None,
    projection: str = DEFAULT_PROJECTION,
):
    """Convert ``.ann`` files; returns (doc_docs, sentence_docs, stats)."""
    nlp = spacy.blank("en")
    sentencizer = make_sentencizer()
    labels = list(labels)
    docs, sents = [], []
    stats = {
        "documents": 0,
        "sentences": 0,
        "relations": 0,
        "entities": defaultdict(lambda: Counter()),
        "issues": Counter(),
        "issue_samples": [],
        "merged_sentence_boundaries": [],
    }
    files = list(ann_files)
    for ann in tqdm(files, desc=progress, disable=progress is None, unit="doc"):
        try:
            brat, issues = read_brat(ann, labels=labels, lenient=lenient)
        except BratError as err:
            if not lenient or err.issue.kind == "missing_txt":
                raise
            stats["issues"][err.issue.kind] += 1
            stats["issue_samples"].append(err.issue.to_dict())
            continue
        for issue in issues:
            stats["issues"][issue.kind] += 1
            stats["issue_samples"].append(issue.to_dict())
        doc, sent_docs, merged = brat_to_docs(nlp, brat, sentencizer, merge_skin=merge_skin, target_labels=LABELS,
                                             projection=projection)
        docs.append(doc)
        sents.extend(sent_docs)
        stats["documents"] += 1
        stats["sentences"] += len(sent_docs)
        stats["relations"] += len(brat.relations)
        stats["merged_sentence_boundaries"].extend(merged)
        reasons = doc.user_data[schema.ANNOTATION]["projection"]
        for ent in brat.entities:
            counter = stats["entities"][ent.label]
            counter["read"] += 1
            if ent.is_discontinuous:
                counter["discontinuous"] += 1
            if ent.id in reasons:
                counter["only_in_spans"] += 1
                counter["reason:" + reasons[ent.id]] += 1
            else:
                counter["in_ents"] += 1
    stats["entities"] = {k: dict(v) for k, v in stats["entities"].items()}
    stats["issues"] = dict(stats["issues"])
    return docs, sents, stats


def convert_corpus(
    source_dir: Union[str, Path],
    output_dir: Union[str, Path],
    merge_skin: bool = False,
    lenient: bool = False,
    validation_fraction: float = 0.1,
    seed: int = 0,
    progress: bool = True,
    projection: str = DEFAULT_PROJECTION,
) -> Dict:
    """Convert a RareDis folder (see ``sources``) to DocBins; returns the report.

    ``projection`` names how ``doc.ents`` are made (``project.PROJECTIONS``)."""
    if projection not in PROJECTIONS:
        raise ValueError(f"Unknown projection {projection!r}; expected one of {sorted(PROJECTIONS)}")
    source_dir = unpack(source_dir)
    output_dir = Path(output_dir)
    (output_dir / "docs").mkdir(parents=True, exist_ok=True)
    plan = plan_splits(source_dir, validation_fraction=validation_fraction, seed=seed)
    report = {
        "source": str(source_dir),
        "split_policy": "official RareDis-v1 train/dev/test" if has_official_test(source_dir)
        else f"train -> train + validation ({validation_fraction:.0%} of documents, seed {seed}); dev -> test",
        "merge_skin": merge_skin,
        "projection": projection,
        "projection_description": PROJECTIONS[projection].description,
        "labels_in_ents": sorted({MERGE_MAP.get(l, l) for l in LABELS} if merge_skin else LABELS),
        "splits": {},
    }
    for split, files in plan.items():
        docs, sents, stats = convert_files(files, merge_skin=merge_skin, lenient=lenient,
                                           progress=f"convert {split}" if progress else None, projection=projection)
        DocBin(docs=docs, store_user_data=True).to_disk(output_dir / "docs" / f"{split}.spacy")
        DocBin(docs=sents, store_user_data=True).to_disk(output_dir / f"{split}.spacy")
        report["splits"][split] = stats
    splits = {split: [p.stem for p in files] for split, files in plan.items()}
    (output_dir / "splits.json").write_text(json.dumps({"policy": report["split_policy"], "projection": projection, "documents": splits}, indent=2))
    (output_dir / "conversion_report.json").write_text(json.dumps(report, indent=2))
    return report


def report_rows(report: Dict) -> List[List]:
    """Rows (split, label, read, in doc.ents, only in doc.spans, reasons) for printing."""
    rows = []
    for split, stats in report["splits"].items():
        for label in ALL_LABELS:
            c = stats["entities"].get(label)
            if not c:
                continue
            why = ", ".join(f"{k[7:]} {v}" for k, v in sorted(c.items()) if k.startswith("reason:"))
            rows.append([split, label, c.get("read", 0), c.get("in_ents", 0), c.get("only_in_spans", 0), why])
    return rows
