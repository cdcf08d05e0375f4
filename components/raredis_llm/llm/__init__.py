"""LLM prompting for RareDis NER with spacy-llm.

Importing this package registers the task ``raredis.NER.v1``, the backends and the
registered functions of ``examples``, ``embeddings`` and ``retrieval``. Installed, the
entry points do the same lazily.
"""

from raredis_llm.llm import backends, embeddings, examples, retrieval, task  # noqa: F401
from raredis_llm.llm.task import RareDisNERTask, make_raredis_ner_task  # noqa: F401
