"""``raredis.KBRetriever.v1``: knowledge-base entries for the prompt (Xi et al. 2025's RAG).

For each input sentence the retriever picks ``top_k`` knowledge-base entries: first the
concepts whose names the dictionary matcher (:class:`.matcher.KBMatcher`) finds in the
sentence (diseases before phenotypes, each in text order), then the entries whose name
embeddings are nearest the sentence's (the index built with the knowledge base). Each
comes back as a dict - ``id``, ``name``, ``kind``, ``kind_name``, ``definition`` (HPO) or
``phenotypes`` (diseases, most frequent first), ``synonyms``, ``source`` (``dictionary``
or ``embedding``), ``score``, ``text`` - which the task renders through
``templates/kb_context.jinja`` (the retriever's default context template).

It plugs into ``raredis.NER.v1``'s ``retriever`` slot. The knowledge base is read at
``initialize`` (``kb`` = the folder of ``spacy project run knowledge``; no training
documents needed) and saved with the pipeline (entries, float16 embeddings, matcher
tables), so ``spacy.load`` needs neither the knowledge base nor the corpus.
"""

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import spacy
import srsly
from spacy.tokens import Doc
from spacy.util import ensure_path, registry

from ..llm.embeddings import SentenceEmbedder, top_k
from ..llm.examples import array_from_bytes, array_to_bytes
from .kb import DISEASE_KINDS, KINDS, KnowledgeBase, kind_name
from .matcher import DEFAULT_KINDS, KBMatcher

CFG_FILE = "cfg.json"
ENTRIES_FILE = "entries.jsonl"
EMBEDDINGS_FILE = "embeddings.npy"
MATCHER_FILE = "matcher.msgpack"
CONTEXT_TEMPLATE = "kb_context.jinja"


def prompt_entry(entry: Dict[str, Any], max_definition_words: int, max_phenotypes: int,
                 max_synonyms: int) -> Dict[str, Any]:
    """What a prompt may show of a knowledge-base entry (definitions cut to a length)."""
    definition = entry.get("definition") or ""
    words = definition.split()
    if len(words) > max_definition_words:
        definition = " ".join(words[:max_definition_words]) + " ..."
    return {"id": entry["id"], "kind": entry["kind"], "name": entry["name"],
            "kind_name": kind_name(entry), "definition": definition,
            "phenotypes": list(entry.get("phenotype_names") or [])[:max_phenotypes],
            "synonyms": list(entry.get("synonyms") or [])[:max_synonyms]}


def passage_text(entry: Dict[str, Any]) -> str:
    """A one-line rendering (``text`` of a passage, for templates that show only text)."""
    text = f"{entry['name']} ({entry['kind_name']})"
    if entry.get("definition"):
        text += f": {entry['definition']}"
    elif entry.get("phenotypes"):
        text += f"; typical features: {', '.join(entry['phenotypes'])}"
    return text


class KBRetriever:
    """Dictionary matches first, then nearest names by embedding (see the module docstring)."""

    #: The task needs no training documents for this retriever ...
    needs_documents = False
    #: ... shows its entries, not annotated training text ...
    annotated = False
    #: ... and renders them through this bundled template unless the config names one.
    default_context_template = CONTEXT_TEMPLATE

    def __init__(self, kb: Optional[str], embedder: SentenceEmbedder, top_k: int = 2,
                 dictionary_first: bool = True, kinds: Sequence[str] = DEFAULT_KINDS,
                 embed_kinds: Sequence[str] = DEFAULT_KINDS, max_definition_words: int = 60,
                 max_phenotypes: int = 8, max_synonyms: int = 3):
        if int(top_k) < 1:
            raise ValueError("KBRetriever: top_k must be >= 1")
        unknown = (set(kinds) | set(embed_kinds)) - set(KINDS)
        if unknown:
            raise ValueError(f"KBRetriever: unknown kind(s) {sorted(unknown)}; known: {list(KINDS)}")
        self.kb_path = kb
        self.embedder = embedder
        self.top_k = int(top_k)
        self.dictionary_first = bool(dictionary_first)
        self.kinds = list(kinds)
        self.embed_kinds = list(embed_kinds)
        self.max_definition_words = int(max_definition_words)
        self.max_phenotypes = int(max_phenotypes)
        self.max_synonyms = int(max_synonyms)
        self.kb_checksum = ""
        self.entries: Optional[List[Dict[str, Any]]] = None
        self.embeddings: Optional[np.ndarray] = None  # rows: entries with embed_row >= 0
        self.embed_rows: Optional[np.ndarray] = None  # row -> entry index
        self.matcher: Optional[KBMatcher] = None
        self._by_id: Dict[str, int] = {}

    @property
    def chunks(self) -> Optional[List[Dict[str, Any]]]:
        """The entries (what the task counts when it logs the size of its knowledge base)."""
        return self.entries

    @property
    def is_initialized(self) -> bool:
        return self.entries is not None

    def cfg(self) -> Dict[str, Any]:
        return {"kind": "kb_retriever", "kb_sha256": self.kb_checksum, "embedder": self.embedder.name,
                "top_k": self.top_k, "dictionary_first": self.dictionary_first, "kinds": self.kinds,
                "embed_kinds": self.embed_kinds, "max_definition_words": self.max_definition_words,
                "max_phenotypes": self.max_phenotypes, "max_synonyms": self.max_synonyms}

    # ------------------------------------------------------------------------ building
    def initialize(self, docs: Iterable[Doc] = ()) -> None:
        """Read the knowledge base (``docs`` are not used: it needs no training data)."""
        if not self.kb_path:
            raise ValueError("KBRetriever: no knowledge base; set kb = ${paths.kb} (the folder "
                             "built by `spacy project run knowledge`)")
        base = KnowledgeBase.load(self.kb_path)
        wanted = set(self.kinds) | set(self.embed_kinds)
        keep = [i for i, entry in enumerate(base.entries) if entry["kind"] in wanted]
        self.entries = [prompt_entry(base.entries[i], self.max_definition_words, self.max_phenotypes,
                                     self.max_synonyms) for i in keep]
        rows = [j for j, i in enumerate(keep) if base.entries[i]["kind"] in self.embed_kinds]
        all_vectors = base.embeddings(self.embedder.name)
        self.embed_rows = np.asarray(rows, dtype=np.int64)
        self.embeddings = all_vectors[[keep[j] for j in rows]].astype(np.float16)
        self.matcher = KBMatcher.from_kb(base, spacy.blank("en").tokenizer, kinds=self.kinds)
        self.kb_checksum = base.checksum
        self._index()

    def _index(self) -> None:
        self._by_id = {entry["id"]: i for i, entry in enumerate(self.entries or [])}

    def _require(self) -> None:
        if self.entries is None or self.matcher is None:
            raise ValueError("KBRetriever: no knowledge base. Run nlp.initialize() (spacy assemble) "
                             "with kb = <knowledge-base folder>, or load a pipeline saved after it.")

    # ------------------------------------------------------------------------ retrieving
    def dictionary_ids(self, doc: Doc) -> List[str]:
        """Concept ids the matcher finds in ``doc``: diseases first, then the others, each
        in text order, without repeats."""
        assert self.matcher is not None
        found = [self.matcher.concepts[c.concept] for c in self.matcher.resolve(self.matcher.candidates(doc))]
        ordered = ([c for c in found if c["kind"] in DISEASE_KINDS]
                   + [c for c in found if c["kind"] not in DISEASE_KINDS])
        out: List[str] = []
        for concept in ordered:
            if concept["id"] not in out and concept["id"] in self._by_id:
                out.append(concept["id"])
        return out

    def _passage(self, idx: int, source: str, score: Optional[float]) -> Dict[str, Any]:
        entry = dict(self.entries[idx])  # type: ignore[index]
        entry.update(source=source, score=score, text=passage_text(entry), spans=[])
        return entry

    def retrieve(self, docs: Sequence[Doc]) -> List[List[Dict[str, Any]]]:
        """For each doc, its ``top_k`` entries (dictionary matches first)."""
        self._require()
        if not docs:
            return []
        assert self.embeddings is not None and self.embed_rows is not None
        sims = None
        if len(self.embed_rows):
            sims = self.embedder([doc.text for doc in docs]) @ self.embeddings.astype(np.float32).T
        out = []
        for i, doc in enumerate(docs):
            picked: List[Dict[str, Any]] = []
            chosen = set()
            if self.dictionary_first:
                for concept_id in self.dictionary_ids(doc)[: self.top_k]:
                    idx = self._by_id[concept_id]
                    chosen.add(idx)
                    picked.append(self._passage(idx, "dictionary", None))
            if sims is not None and len(picked) < self.top_k:
                row = sims[i]
                for r in top_k(row, self.top_k + len(chosen)):
                    idx = int(self.embed_rows[r])
                    if idx in chosen:
                        continue
                    chosen.add(idx)
                    picked.append(self._passage(idx, "embedding", float(row[r])))
                    if len(picked) >= self.top_k:
                        break
            out.append(picked)
        return out

    # ---------------------------------------------------------------------- serialization
    def _check_loaded_cfg(self, cfg: Dict[str, Any]) -> None:
        if cfg.get("embedder") != self.embedder.name:
            raise ValueError(f"Saved knowledge-base embeddings come from '{cfg.get('embedder')}', "
                             f"the config's embedder is '{self.embedder.name}'; re-run initialize")

    def _set_cfg(self, cfg: Dict[str, Any]) -> None:
        self._check_loaded_cfg(cfg)
        self.kb_checksum = cfg.get("kb_sha256", "")

    def to_disk(self, path: Union[str, Path]) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / CFG_FILE, {**self.cfg(), "initialized": self.is_initialized})
        if self.entries is not None:
            srsly.write_jsonl(path / ENTRIES_FILE, self.entries)
            np.save(path / EMBEDDINGS_FILE, self.embeddings, allow_pickle=False)
            np.save(path / "embed_rows.npy", self.embed_rows, allow_pickle=False)
            (path / MATCHER_FILE).write_bytes(self.matcher.to_bytes())  # type: ignore[union-attr]

    def from_disk(self, path: Union[str, Path]) -> "KBRetriever":
        path = ensure_path(path)
        cfg = srsly.read_json(path / CFG_FILE)
        self._set_cfg(cfg)
        if cfg.get("initialized"):
            self.entries = list(srsly.read_jsonl(path / ENTRIES_FILE))
            self.embeddings = np.load(path / EMBEDDINGS_FILE, allow_pickle=False)
            self.embed_rows = np.load(path / "embed_rows.npy", allow_pickle=False)
            self.matcher = KBMatcher(spacy.blank("en").vocab).from_bytes((path / MATCHER_FILE).read_bytes())
            self._index()
        return self

    def to_bytes(self) -> bytes:
        data: Dict[str, Any] = {"cfg": self.cfg(), "entries": self.entries}
        if self.entries is not None:
            data["embeddings"] = array_to_bytes(self.embeddings)
            data["embed_rows"] = array_to_bytes(self.embed_rows)
            data["matcher"] = self.matcher.to_bytes()  # type: ignore[union-attr]
        return srsly.msgpack_dumps(data)

    def from_bytes(self, data: bytes) -> "KBRetriever":
        msg = srsly.msgpack_loads(data)
        self._set_cfg(msg["cfg"])
        self.entries = msg["entries"]
        if self.entries is not None:
            self.embeddings = array_from_bytes(msg["embeddings"])
            self.embed_rows = array_from_bytes(msg["embed_rows"])
            self.matcher = KBMatcher(spacy.blank("en").vocab).from_bytes(msg["matcher"])
            self._index()
        return self


@registry.misc("raredis.KBRetriever.v1")
def make_kb_retriever(
    kb: Optional[str],
    embedder: SentenceEmbedder,
    top_k: int = 2,
    dictionary_first: bool = True,
    kinds: List[str] = list(DEFAULT_KINDS),
    embed_kinds: List[str] = list(DEFAULT_KINDS),
    max_definition_words: int = 60,
    max_phenotypes: int = 8,
    max_synonyms: int = 3,
) -> KBRetriever:
    """Knowledge-base entries for ``raredis.NER.v1`` prompts (Xi et al. 2025).

    kb: the knowledge-base folder (read at initialize). embedder: the model of its name
    index (``offline:all-MiniLM-L6-v2``). top_k: entries per sentence (Xi et al.: 2).
    dictionary_first: names found in the sentence come before embedding neighbours.
    kinds / embed_kinds: kinds the dictionary matches / the embedding search returns.
    max_definition_words / max_phenotypes / max_synonyms: how much of an entry a prompt shows.
    """
    return KBRetriever(kb=kb, embedder=embedder, top_k=top_k, dictionary_first=dictionary_first,
                       kinds=kinds, embed_kinds=embed_kinds, max_definition_words=max_definition_words,
                       max_phenotypes=max_phenotypes, max_synonyms=max_synonyms)

