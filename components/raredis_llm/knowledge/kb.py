"""The knowledge-base folder: what an entry holds, and loading it.

A folder written by :mod:`raredis_llm.knowledge.build` holds

* ``entries.jsonl``: one concept a line - ``id`` (``ORPHA:324``, ``OMIM:301500``,
  ``HP:0001250``), ``kind`` (see :data:`KINDS`), ``name``, ``synonyms``, ``definition``
  (HPO terms; None for diseases), for diseases ``phenotypes`` / ``phenotype_names`` (most
  frequent first) and ``skin_fraction`` (share of their phenotypes under HP:0000951
  "Abnormality of the skin"), for HPO terms ``categories`` (top-level branches under
  "Phenotypic abnormality"), ``depth`` and ``skin``;
* ``meta.json``: format, source versions and checksums, counts, the entries' sha256;
* ``embeddings.npy`` + ``embeddings.json`` (optional): one float16 row per entry, the
  sentence embedding of its name, and the model that made them.
"""

from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Union

import numpy as np
import srsly

from ..util import file_sha256

KB_FORMAT = 1
ORPHANET = "orphanet_disease"
OMIM = "omim_disease"
HPO_PHENOTYPE = "hpo_phenotype"
HPO_OTHER = "hpo_other"
KINDS = (ORPHANET, OMIM, HPO_PHENOTYPE, HPO_OTHER)
DISEASE_KINDS = (ORPHANET, OMIM)
#: A disease is shown as a skin disease when at least this share of its phenotypes are.
SKIN_MAJORITY = 0.5
#: How an entry's kind reads in a prompt.
KIND_NAMES = {ORPHANET: "rare disease (Orphanet)", OMIM: "disease (OMIM)",
              HPO_PHENOTYPE: "phenotype (HPO)", HPO_OTHER: "HPO term"}
ENTRIES_FILE = "entries.jsonl"
META_FILE = "meta.json"
EMBEDDINGS_FILE = "embeddings.npy"
EMBEDDINGS_META = "embeddings.json"


def kind_name(entry: Mapping[str, Any]) -> str:
    """``"rare skin disease (Orphanet)"`` etc.: the kind as a prompt shows it."""
    name = KIND_NAMES.get(entry.get("kind", ""), str(entry.get("kind")))
    if entry.get("kind") in DISEASE_KINDS and (entry.get("skin_fraction") or 0) >= SKIN_MAJORITY:
        name = name.replace("disease", "skin disease", 1)
    return name


class KnowledgeBase:
    """The entries of a knowledge-base folder, indexed by id."""

    def __init__(self, entries: List[Dict[str, Any]], meta: Optional[Dict[str, Any]] = None,
                 path: Optional[Path] = None):
        self.entries = entries
        self.meta = meta or {}
        self.path = path
        self.index = {entry["id"]: i for i, entry in enumerate(entries)}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self.entries)

    def __contains__(self, concept_id: str) -> bool:
        return concept_id in self.index

    def get(self, concept_id: str) -> Dict[str, Any]:
        return self.entries[self.index[concept_id]]

    def counts(self) -> Dict[str, int]:
        out = {kind: 0 for kind in KINDS}
        for entry in self.entries:
            out[entry["kind"]] = out.get(entry["kind"], 0) + 1
        return out

    @property
    def checksum(self) -> str:
        return str(self.meta.get("entries_sha256", ""))

    @classmethod
    def load(cls, path: Union[str, Path], verify: bool = True) -> "KnowledgeBase":
        """Read a folder written by ``build``; ``verify`` checks the entries' sha256."""
        path = Path(path)
        meta_file, entries_file = path / META_FILE, path / ENTRIES_FILE
        for file in (meta_file, entries_file):
            if not file.exists():
                raise FileNotFoundError(f"{file} not found: build the knowledge base first "
                                        "(spacy project run knowledge)")
        meta = srsly.read_json(meta_file)
        if meta.get("kb_format") != KB_FORMAT:
            raise ValueError(f"{meta_file}: knowledge-base format {meta.get('kb_format')!r}, "
                             f"this code reads format {KB_FORMAT}: rebuild it")
        if verify and file_sha256(entries_file) != meta.get("entries_sha256"):
            raise ValueError(f"{entries_file}: sha256 differs from {meta_file} (modified or "
                             "truncated): rebuild the knowledge base")
        entries = []
        for line_no, entry in enumerate(srsly.read_jsonl(entries_file), start=1):
            if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
                raise ValueError(f"{entries_file}:{line_no}: not an entry with id and name")
            entries.append(entry)
        return cls(entries, meta, path)

    def embeddings(self, model: Optional[str] = None) -> np.ndarray:
        """The (n_entries, dim) float32 name embeddings saved beside the entries."""
        if self.path is None:
            raise ValueError("This knowledge base has no folder, so no embedding index")
        info_file, array_file = self.path / EMBEDDINGS_META, self.path / EMBEDDINGS_FILE
        if not info_file.exists() or not array_file.exists():
            raise FileNotFoundError(f"{array_file} not found: build the knowledge base with its "
                                    "embedding index (scripts/build_knowledge.py without --no-embeddings)")
        info = srsly.read_json(info_file)
        if model is not None and info.get("model") != model:
            raise ValueError(f"{info_file}: embeddings from {info.get('model')!r}, expected {model!r}")
        if info.get("entries_sha256") != self.checksum:
            raise ValueError(f"{info_file}: made for other entries (sha256 differs): rebuild")
        array = np.load(array_file, allow_pickle=False)
        if array.shape[0] != len(self.entries):
            raise ValueError(f"{array_file}: {array.shape[0]} rows for {len(self.entries)} entries")
        return array.astype(np.float32)
