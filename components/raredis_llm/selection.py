"""Choose the pipeline to package as ``en_raredis_llm``: on the validation split, never test.

Every candidate pipeline is scored by the harness on the same seeded sample of validation
sentences (each with its document's context, as the converter stores it); the best strict micro F1 (5-type; ties: the 4-type view, then words/s) wins.
The choice, every candidate's validation scores and speed, and where its test metrics are
go to one JSON file that ``scripts/package_pipeline.py --selection`` reads.
"""

import logging
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import spacy

from .scoring.evaluate import evaluate, load_gold_docs, sample_docs
from .util import named_path, read_json, write_json

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]


def parse_candidate(text: str) -> Tuple[str, str]:
    """``"name=path"`` -> ``(name, path)``."""
    return named_path(text, "candidate", "NAME=PIPELINE_PATH")


def summary(metrics: dict) -> Dict[str, Optional[float]]:
    """Validation figures of one candidate (micro F1 of both views, words/s)."""
    views = metrics.get("views", {})

    def micro(view: str) -> Optional[float]:
        value = views.get(view, {}).get("seqeval", {}).get("micro", {}).get("f")
        return None if value is None else round(float(value), 4)

    return {"f_5type": micro("5type"), "f_4type": micro("4type"),
            "words_per_s": metrics.get("speed", {}).get("words_per_s"), "n_docs": metrics.get("n_docs")}


def rank_key(row: dict) -> Tuple[float, float, float]:
    return (row.get("f_5type") or 0.0, row.get("f_4type") or 0.0, row.get("words_per_s") or 0.0)


def select_best(
    candidates: Sequence[Tuple[str, PathLike]],
    validation: PathLike,
    metrics_dir: PathLike,
    output: PathLike,
    n_docs: Optional[int] = 200,
    seed: int = 0,
    log: Callable[[str], None] = logger.info,
) -> dict:
    """Score each ``(name, pipeline)`` on the validation sample, write and return the choice.

    The test metrics of a candidate are expected at ``<metrics_dir>/<name>.json`` (what
    ``scripts/evaluate.py`` wrote); a missing pipeline or test metrics file is an error
    naming it, so the package never ships without its measured scores.
    """
    if not candidates:
        raise ValueError("select_best: no candidate pipelines")
    rows: List[dict] = []
    gold, indices, n_total = None, [], 0
    for name, pipeline in candidates:
        pipeline = Path(pipeline)
        test_metrics = Path(metrics_dir) / f"{name}.json"
        if not (pipeline / "meta.json").exists():
            raise FileNotFoundError(f"Candidate {name}: no pipeline at {pipeline} (meta.json missing)")
        if not test_metrics.exists():
            raise FileNotFoundError(f"Candidate {name}: no test metrics {test_metrics} (run its evaluate step)")
        nlp = spacy.load(pipeline)
        if gold is None:
            all_docs = load_gold_docs(validation, nlp)
            indices, gold = sample_docs(all_docs, n_docs, seed)
            n_total = len(all_docs)
            log(f"Validation sample: {len(gold)} of {len(all_docs)} sentences of {validation} (seed {seed})")
        # text_meta: each sentence with its document's context, as a whole document gives it
        metrics = evaluate(nlp, gold, system=f"{name}@validation", model=str(pipeline), corpus=str(validation),
                           input_mode="text_meta", indices=indices, n_docs_total=n_total, seed=seed)
        row = {"system": name, "pipeline": str(pipeline), "test_metrics": str(test_metrics), **summary(metrics)}
        log(f"{name}: validation micro F1 {row['f_5type']} (5-type) / {row['f_4type']} (4-type), "
            f"{row['words_per_s']} words/s")
        rows.append(row)
        del nlp
    best = max(rows, key=rank_key)
    record = {"chosen": best["system"], "pipeline": best["pipeline"], "test_metrics": best["test_metrics"],
              "split": str(validation), "n_docs": rows[0]["n_docs"], "seed": seed,
              "rule": "best strict micro F1 (5-type) on the validation sample; ties: 4-type, then words/s",
              "candidates": rows}
    write_json(record, output)
    log(f"Chosen: {best['system']} ({best['pipeline']})")
    return record


def read_selection(path: PathLike) -> dict:
    """A selection file written by :func:`select_best` (clear error when it is not one)."""
    record = read_json(path)
    if not isinstance(record, dict) or not {"chosen", "pipeline", "test_metrics"} <= set(record):
        raise ValueError(f"{path} is not a pipeline selection (scripts/select_pipeline.py writes one)")
    return record
