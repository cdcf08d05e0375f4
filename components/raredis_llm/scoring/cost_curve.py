"""F1 against prompt tokens per sentence for k few-shot examples (Xi et al.'s
cost-performance analysis), random and kNN examples.

Each point is a prompting config of the project (``configs/llm_fewshot_<selector>.cfg``,
``k = 0``: ``configs/llm_zeroshot.cfg``, shared by both curves) assembled in-process with
``components.llm.task.examples.k`` overridden, optionally moved to another backend
(``llm/strategies.strategy_config``), and scored by the harness on one seeded sentence
sample, so every point is paired with every other. Each point keeps its metrics file;
a rerun skips the points already scored with the same config and sample.
"""

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import load_config_from_str, load_model_from_config

from ..util import write_text
from .bootstrap import DEFAULT_N, intervals
from .charts import plot_cost_curve
from .evaluate import evaluate, sample_docs, write_metrics
from .report import markdown_table, pct_ci
from .units import Units

logger = logging.getLogger(__name__)

DEFAULT_KS = (0, 1, 2, 4, 8, 16)
SELECTORS: Dict[str, str] = {"random": "llm_fewshot_random.cfg", "knn": "llm_fewshot_knn.cfg"}
ZERO_SHOT = "llm_zeroshot.cfg"
K_KEY = "components.llm.task.examples.k"
CURVE_FILE = "cost_curve.json"


@dataclass
class Point:
    selector: str  # "zeroshot" for k = 0
    k: int
    system: str
    sentences: int
    prompt_tokens_per_sentence: float
    completion_tokens_per_sentence: float
    cost_per_1k_sentences: Optional[float]
    micro_f: float
    micro_ci: Optional[List[float]]
    micro_f_4type: float
    micro_ci_4type: Optional[List[float]]
    metrics_file: str


def point_config_text(configs_dir: Union[str, Path], selector: str, k: int, backend: str = "hf") -> str:
    """The config text of one point: the strategy's config, on ``backend``."""
    configs_dir = Path(configs_dir)
    if k == 0:
        name = ZERO_SHOT
    elif selector in SELECTORS:
        name = SELECTORS[selector]
    else:
        raise ValueError(f"Unknown example selector {selector!r}; expected one of {sorted(SELECTORS)}")
    path = configs_dir / name
    if not path.exists():
        raise FileNotFoundError(f"No config {path} for the cost curve")
    if backend == "hf":
        return path.read_text(encoding="utf8")
    from ..llm.strategies import strategy_config

    return strategy_config(configs_dir, path.stem[len("llm_"):], backend).to_str()


def assemble(config_text: str, overrides: Dict[str, Any]) -> Language:
    """What ``spacy assemble`` does, in-process: the pipeline, initialized, not saved."""
    config = load_config_from_str(config_text, overrides=overrides, interpolate=False)
    nlp = load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    return nlp


def fingerprint(config_text: str, overrides: Dict[str, Any], indices: Sequence[int]) -> str:
    blob = json.dumps([config_text, sorted((k, str(v)) for k, v in overrides.items()), list(indices)])
    return hashlib.sha256(blob.encode("utf8")).hexdigest()[:16]


def summarize_point(metrics: dict, selector: str, k: int, metrics_file: str, price_prompt_1k: float,
                    price_completion_1k: float, n_boot: int, seed: int) -> Point:
    n = max(1, int(metrics["n_docs"]))
    usage = metrics.get("llm_usage") or {}
    prompt, completion = usage.get("prompt_tokens", 0) / n, usage.get("completion_tokens", 0) / n
    priced = price_prompt_1k > 0 or price_completion_1k > 0
    units = Units.from_metrics(metrics)
    ivs = {}
    for view in ("5type", "4type"):
        _, types, counts = units.unit_counts("strict", view)
        ivs[view] = intervals(counts, types, n_boot=n_boot, seed=seed)
    return Point(
        selector=selector, k=k, system=metrics["system"], sentences=n,
        prompt_tokens_per_sentence=round(prompt, 1), completion_tokens_per_sentence=round(completion, 1),
        cost_per_1k_sentences=round(prompt * price_prompt_1k + completion * price_completion_1k, 4) if priced else None,
        micro_f=ivs["5type"].micro, micro_ci=list(ivs["5type"].micro_ci) if ivs["5type"].micro_ci else None,
        micro_f_4type=ivs["4type"].micro,
        micro_ci_4type=list(ivs["4type"].micro_ci) if ivs["4type"].micro_ci else None,
        metrics_file=metrics_file,
    )


def run_cost_curve(
    configs_dir: Union[str, Path],
    gold_docs: Sequence[Doc],
    output_dir: Union[str, Path],
    selectors: Sequence[str] = tuple(SELECTORS),
    ks: Sequence[int] = DEFAULT_KS,
    n_docs: Optional[int] = None,
    seed: int = 0,
    backend: str = "hf",
    overrides: Optional[Dict[str, Any]] = None,
    price_prompt_1k: float = 0.0,
    price_completion_1k: float = 0.0,
    n_boot: int = DEFAULT_N,
    corpus: Optional[str] = None,
    prefix: str = "cost",
    progress: bool = True,
) -> dict:
    """Score every (selector, k) point on one sentence sample; write each point's metrics,
    ``cost_curve.json`` and ``cost_curve.png`` (and ``cost_curve_price.png`` when priced)
    into ``output_dir``. Returns the curve."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    overrides = dict(overrides or {})
    if any(k < 0 for k in ks):
        raise ValueError(f"k must be >= 0, got {list(ks)}")
    indices, docs = sample_docs(gold_docs, n_docs, seed)
    plan = [("zeroshot", 0)] if 0 in ks else []
    plan += [(sel, k) for sel in selectors for k in sorted(set(ks)) if k > 0]
    points: List[Point] = []
    for selector, k in plan:
        text = point_config_text(configs_dir, selector, k, backend)
        point_overrides = {**overrides, **({K_KEY: k} if k > 0 else {})}
        system = f"{prefix}_{selector}_k{k}"
        out = output_dir / f"{system}.json"
        key = fingerprint(text, point_overrides, indices)
        metrics = json.loads(out.read_text(encoding="utf8")) if out.exists() else None
        if metrics is None or metrics.get("cost_curve", {}).get("fingerprint") != key:
            logger.info("cost curve: %s (k=%d) on %d sentences", selector, k, len(docs))
            nlp = assemble(text, point_overrides)
            metrics = evaluate(nlp, docs, system=system, model=str(overrides.get("components.llm.model.name", "")) or None,
                               corpus=corpus, seed=seed, indices=indices, n_docs_total=len(gold_docs),
                               price_prompt_1k=price_prompt_1k, price_completion_1k=price_completion_1k,
                               progress=progress)
            metrics["cost_curve"] = {"selector": selector, "k": k, "backend": backend, "fingerprint": key,
                                     "overrides": {k_: str(v) for k_, v in point_overrides.items()}}
            write_metrics(metrics, out)
        else:
            logger.info("cost curve: %s (k=%d) already scored (%s)", selector, k, out)
        points.append(summarize_point(metrics, selector, k, out.name, price_prompt_1k, price_completion_1k,
                                      n_boot, seed))
    curve = {"backend": backend, "sentences": len(docs), "seed": seed, "ks": sorted(set(ks)),
             "selectors": list(selectors), "n_boot": n_boot,
             "price_per_1k": {"prompt": price_prompt_1k, "completion": price_completion_1k},
             "points": [asdict(p) for p in points]}
    write_text(json.dumps(curve, indent=2) + "\n", output_dir / CURVE_FILE)
    curve["charts"] = [str(p) for p in plot_curve(curve, output_dir)]
    return curve


def _series(curve: dict, x_key: str) -> Dict[str, list]:
    points = curve["points"]
    zero = [p for p in points if p["k"] == 0]
    out = {}
    for selector in curve["selectors"]:
        rows = zero + [p for p in points if p["selector"] == selector]
        out[selector] = [(p[x_key], p["micro_f"], tuple(p["micro_ci"]) if p["micro_ci"] else None, p["k"])
                         for p in rows if p[x_key] is not None]
    return out


def plot_curve(curve: dict, output_dir: Union[str, Path]) -> List[Path]:
    output_dir = Path(output_dir)
    title = f"F1 vs prompt size ({curve['backend']}, {curve['sentences']} test sentences, strict 5type)"
    charts = [plot_cost_curve(_series(curve, "prompt_tokens_per_sentence"), title, output_dir / "cost_curve.png")]
    if any(p["cost_per_1k_sentences"] is not None for p in curve["points"]):
        charts.append(plot_cost_curve(_series(curve, "cost_per_1k_sentences"), title,
                                      output_dir / "cost_curve_price.png", xlabel="estimated cost per 1,000 sentences"))
    return charts


def curve_markdown(curve: dict) -> str:
    """A table of the points (for the terminal and the README)."""
    header = ["examples", "k", "prompt tokens / sentence", "completion tokens / sentence", "cost / 1k sentences",
              "micro F1 5type (95% CI)", "micro F1 4type (95% CI)"]
    rows = [[p["selector"], p["k"], f"{p['prompt_tokens_per_sentence']:,.1f}",
             f"{p['completion_tokens_per_sentence']:,.1f}",
             "-" if p["cost_per_1k_sentences"] is None else f"{p['cost_per_1k_sentences']:,.4f}",
             pct_ci(p["micro_f"], p["micro_ci"]), pct_ci(p["micro_f_4type"], p["micro_ci_4type"])]
            for p in curve["points"]]
    return markdown_table(header, rows)
