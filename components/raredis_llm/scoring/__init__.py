"""The scoring harness: one scorer for every system (spaCy scorer, seqeval strict,
error breakdown, speed and LLM usage), and the report built from its metrics files.

Importing this package registers ``raredis.ner_scorer.v1`` (``scorer.py``).
"""

from .evaluate import evaluate, load_gold_docs, sample_docs, score_docs, write_metrics
from .scorer import make_ner_scorer

__all__ = ["evaluate", "load_gold_docs", "sample_docs", "score_docs", "write_metrics", "make_ner_scorer"]
