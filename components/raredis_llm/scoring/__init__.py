"""The scoring harness: one scorer for every system (spaCy scorer; seqeval strict, seqeval
default and document-level views; error breakdown, speed and LLM usage), the per-sentence
record behind bootstrap intervals and paired comparisons, outside predictions, the cost
curve, and the report built from the metrics files.

Importing this package registers ``raredis.ner_scorer.v1`` (``scorer.py``).
"""

from .evaluate import evaluate, load_gold_docs, sample_docs, score_docs, write_metrics
from .scorer import make_ner_scorer

__all__ = ["evaluate", "load_gold_docs", "sample_docs", "score_docs", "write_metrics", "make_ner_scorer"]
