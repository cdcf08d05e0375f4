"""Annotate a corpus with any pipeline: ``python -m raredis_llm annotate``.

Small modules with one job each: :mod:`.readers` (input documents), :mod:`.pipelines`
(load or build the pipeline), :mod:`.engines` (run it, one document's failure isolated
from the others), :mod:`.writers` (output, errors, DocBin shards, restart), :mod:`.runner`
(the loop) and :mod:`.cli`.
"""

from .engines import ENGINES, Engine, SpacyEngine
from .readers import Record, read_records
from .runner import annotate
from .writers import doc_record

__all__ = ["ENGINES", "Engine", "SpacyEngine", "Record", "read_records", "annotate", "doc_record"]
