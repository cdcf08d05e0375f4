"""The baseline tests use the tiny corpora of tests/conftest.py (tiny_corpus, train_overrides)."""
