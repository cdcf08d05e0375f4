"""The comparisons a reader makes, and their paired bootstrap differences.

System names follow the project's commands: ``[<backend>_]llm_<strategy>`` for prompting
(``openai_llm_zeroshot``...), ``lora_*`` for the fine-tuned model, ``cnn`` and ``trf`` for
the baselines. The pairs (A vs B):

* each prompting strategy vs zero-shot, per backend;
* kNN vs random examples; RAG vs no RAG (``rag`` vs ``zeroshot``, ``rag_knn`` vs ``fewshot_knn``);
  knowledge-base RAG vs document RAG (``rag_kb`` vs ``rag``, ``rag_kb_knn`` vs ``rag_knn``);
* the fine-tuned model vs the best prompting row;
* the best LLM pipeline (prompting or fine-tuned) vs each baseline;
* the span-voting ensemble vs each baseline;
* each baseline with knowledge features vs without (``cnn_kb`` vs ``cnn``, ``trf_kb`` vs ``trf``);
* any pair asked for by name.

"Best" is the highest strict micro F1 (5 types) on the system's own sentences; the
difference itself is always computed on the sentences both systems scored.
"""

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .bootstrap import DEFAULT_N, Difference, paired
from .units import Units, shared_keys

ZERO_SHOT = "llm_zeroshot"
STRATEGIES = ("llm_fewshot_random", "llm_fewshot_knn", "llm_fewshot_cluster", "llm_rag", "llm_rag_knn",
              "llm_spacy_ner_v3", "llm_rag_kb", "llm_rag_kb_knn")
BASELINES = ("cnn", "trf")
KNOWLEDGE_SUFFIX = "_kb"
ENSEMBLE = "ensemble"
ENSEMBLE_GEN = "ensemble_gen"
TAGGER = "llm_tagger"
FINETUNED_PREFIX = "lora"


@dataclass
class Pair:
    a: str
    b: str
    why: str


def is_prompting(name: str) -> bool:
    return name.endswith(ZERO_SHOT) or any(name.endswith(s) for s in STRATEGIES)


def reader_pairs(systems: Sequence[str], score: Callable[[str], float],
                 extra: Sequence[Tuple[str, str]] = ()) -> List[Pair]:
    """The pairs among ``systems`` (``score``: a system's headline F1, to pick the best)."""
    have = set(systems)
    out: List[Pair] = []

    def add(a: str, b: str, why: str) -> None:
        if a in have and b in have and a != b and not any((p.a, p.b) == (a, b) for p in out):
            out.append(Pair(a, b, why))

    prefixes = sorted({s[: -len(ZERO_SHOT)] for s in systems if s.endswith(ZERO_SHOT)}
                      | {s[: -len(st)] for s in systems for st in STRATEGIES if s.endswith(st)})
    for p in prefixes:
        backend = f" ({p.rstrip('_')})" if p else ""
        add(p + "llm_fewshot_knn", p + "llm_fewshot_random", "kNN vs random examples" + backend)
        add(p + "llm_rag", p + ZERO_SHOT, "RAG vs no RAG" + backend)
        add(p + "llm_rag_knn", p + "llm_fewshot_knn", "RAG vs no RAG, kNN examples" + backend)
        add(p + "llm_rag_kb", p + "llm_rag", "knowledge-base vs document RAG" + backend)
        add(p + "llm_rag_kb_knn", p + "llm_rag_knn", "knowledge-base vs document RAG, kNN examples" + backend)
        for st in STRATEGIES:
            add(p + st, p + ZERO_SHOT, "strategy vs zero-shot" + backend)
    prompting = [s for s in systems if is_prompting(s)]
    finetuned = [s for s in systems if s.startswith(FINETUNED_PREFIX)]
    best_prompting = max(prompting, key=score, default=None)
    for ft in finetuned:
        if best_prompting is not None:
            add(ft, best_prompting, "fine-tuned vs best prompting")
    best_pipeline = max(prompting + finetuned, key=score, default=None)
    for base in BASELINES:
        add(TAGGER, base, "LLM tagger vs baseline")
        if best_pipeline is not None:
            add(best_pipeline, base, "best LLM pipeline vs baseline")
        add(ENSEMBLE, base, "ensemble vs baseline")
        add(base + KNOWLEDGE_SUFFIX, base, "knowledge features vs none")
    for ft in finetuned:
        add(TAGGER, ft, "LLM tagger vs generative fine-tuning")
    add(ENSEMBLE, TAGGER, "ensemble vs its best member")
    add(ENSEMBLE_GEN, ENSEMBLE, "generative member vs none")
    for a, b in extra:
        missing = [s for s in (a, b) if s not in have]
        if missing:
            raise ValueError(f"Pair {a}:{b}: no metrics for {missing} (systems: {sorted(have)})")
        add(a, b, "asked for")
    return out


def compare(a: Units, b: Units, metric: str, view: str, average: str = "micro", n_boot: int = DEFAULT_N,
            seed: int = 0) -> Optional[Difference]:
    """``F1(a) - F1(b)`` on their shared sentences, with the paired interval; None if they
    share none."""
    keys = shared_keys(a, b)
    if not keys:
        return None
    types = sorted(set(a.types(metric, view)) | set(b.types(metric, view)))
    _, _, ca = a.unit_counts(metric, view, keys, types)
    _, _, cb = b.unit_counts(metric, view, keys, types)
    return paired(ca, cb, average=average, n_boot=n_boot, seed=seed)


def compare_all(units: Dict[str, Units], pairs: Sequence[Pair], columns: Sequence[Tuple[str, str]],
                n_boot: int = DEFAULT_N, seed: int = 0) -> List[Tuple[Pair, int, List[Optional[Difference]]]]:
    """For each pair: ``(pair, shared sentences, [difference per (metric, view) column])``."""
    rows = []
    for pair in pairs:
        a, b = units.get(pair.a), units.get(pair.b)
        if a is None or b is None:
            continue
        n = len(shared_keys(a, b))
        rows.append((pair, n, [compare(a, b, metric, view, n_boot=n_boot, seed=seed) if n else None
                               for metric, view in columns]))
    return rows
