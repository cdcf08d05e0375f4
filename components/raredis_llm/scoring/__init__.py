"""The scoring harness: one scorer for every system (spaCy scorer; seqeval strict, seqeval
default and document-level views; error breakdown, speed and LLM usage), the per-sentence
record behind bootstrap intervals and paired comparisons, outside predictions, the cost
curve, and the report built from the metrics files.

Import the modules themselves (``scoring.evaluate``, ``scoring.report``, ...): this package
imports nothing, so that a pipeline naming ``raredis.ner_scorer.v1`` (``scorer.py``, registered
by its entry point) loads without the harness.
"""
