"""raredis_llm: rare disease NER for spaCy (RareDis corpus, LLM prompting, LoRA, baselines)."""

__version__ = "0.1.0"
