"""spaCy components of raredis_llm.

Importing this package registers the ``raredis_llm_ner`` factory (a LoRA fine-tuned
local causal LM as an NER component, :mod:`.component`). Installed, the entry point
``spacy_factories: raredis_llm_ner`` does the same lazily.
"""

from raredis_llm.pipeline.component import RareDisLLMNER, make_raredis_llm_ner  # noqa: F401
