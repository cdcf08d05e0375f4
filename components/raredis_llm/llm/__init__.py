"""LLM prompting for RareDis NER with spacy-llm.

Importing this package registers the task ``raredis.NER.v1`` and the registered
functions of ``examples``, ``embeddings`` and ``retrieval`` (and the backends, when that
subpackage is present). Installed, the entry points do the same lazily; without
installing, ``spacy assemble ... --code components/raredis_llm/llm/__init__.py`` works
with ``PYTHONPATH=components`` (imports here are absolute for that reason).
"""

from importlib.util import find_spec

from raredis_llm.llm import embeddings, examples, formats, retrieval, task  # noqa: F401
from raredis_llm.llm.formats import get_format  # noqa: F401
from raredis_llm.llm.task import RareDisNERTask, make_raredis_ner_task  # noqa: F401

if find_spec("raredis_llm.llm.backends") is not None:
    import raredis_llm.llm.backends  # noqa: F401
