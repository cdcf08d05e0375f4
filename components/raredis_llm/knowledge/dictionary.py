"""``raredis_dictionary``: a dictionary tagger and linker over the knowledge base.

The component finds knowledge-base names in a Doc (:class:`.matcher.KBMatcher`: case,
hyphen, whitespace, possessive, plural and syndrome/disease variants), keeps
non-overlapping matches (longest span, then most specific concept), labels each with the
type its concept maps to (:class:`.typemap.TypeMap`, learned on the training split at
``initialize``; concepts mapped to no type are dropped) and writes them

* to ``doc.ents`` (``write_ents``): replacing them (``overwrite_ents = true``) or only
  where no entity is yet (``false``), with ``span.kb_id_`` = the concept id
  (``ORPHA:324``, ``OMIM:301500``, ``HP:0001250``);
* to ``doc.spans[spans_key]`` (when set), labelled with the concept's group
  (``span_labels = "group"``: ``orphanet_disease``, ``orphanet_disease_skin``,
  ``omim_disease``, ``omim_disease_skin``, ``hpo_phenotype``) or its type
  (``"type"``): what the knowledge features of the taggers read.

With ``abbreviations = true``, an abbreviation in parentheses right after a tagged span
(``Fabry disease (FD)``) gets the span's type and concept too.

Initialization (``[initialize.components.raredis_dictionary]``)::

    kb = ${paths.kb}                       # the folder of `spacy project run knowledge`
    [initialize.components.raredis_dictionary.examples]   # gold Docs for the type mapping
    @readers = "spacy.Corpus.v1"           # (default: the get_examples nlp.initialize gets)
    path = ${paths.train}

The matcher's concept and phrase tables and the learned mapping are saved with the
pipeline (``matcher.msgpack``, ``cfg.json``): ``spacy.load`` needs neither the knowledge
base nor the corpus.
"""

import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import ensure_path

from ..labels import LABELS
from .kb import DISEASE_KINDS, KnowledgeBase
from .matcher import DEFAULT_KINDS, Candidate, KBMatcher
from .typemap import TypeMap

logger = logging.getLogger(__name__)

CFG_FILE = "cfg.json"
MATCHER_FILE = "matcher.msgpack"
SPAN_LABELS = ("group", "type")
#: The labels of ``span_labels = "group"`` (what the knowledge features one-hot encode).
GROUP_LABELS = ("orphanet_disease", "orphanet_disease_skin", "omim_disease",
                "omim_disease_skin", "hpo_phenotype")


def is_abbreviation(text: str) -> bool:
    """``SSCD``, ``MEN2``, ``sIBM``: 2-10 letters/digits, at least two capitals."""
    return 2 <= len(text) <= 10 and text.isalnum() and sum(c.isupper() for c in text) >= 2


def with_abbreviations(doc: Doc, spans: Sequence[Span]) -> List[Span]:
    """``spans`` plus, after a span, a parenthesised abbreviation (``Fabry disease (FD)``)
    with the span's label and ``kb_id``, where it overlaps no span."""
    taken = {t for span in spans for t in range(span.start, span.end)}
    out = list(spans)
    for span in spans:
        i = span.end
        if (i + 2 < len(doc) and doc[i].text == "(" and doc[i + 2].text == ")"
                and i + 1 not in taken and is_abbreviation(doc[i + 1].text)):
            out.append(Span(doc, i + 1, i + 2, label=span.label_, kb_id=span.kb_id_))
            taken.add(i + 1)
    return sorted(out, key=lambda s: s.start)


def write_ents(doc: Doc, ents: Sequence[Span], overwrite: bool) -> None:
    """Set non-overlapping ``ents`` as ``doc.ents``: all of them (``overwrite``), or those
    that overlap none of the Doc's entities."""
    if overwrite:
        doc.ents = list(ents)
        return
    taken = {t for ent in doc.ents for t in range(ent.start, ent.end)}
    new = [ent for ent in ents if not any(t in taken for t in range(ent.start, ent.end))]
    doc.set_ents(new, default="unmodified")


class RareDisDictionary:
    """See the module docstring."""

    def __init__(self, nlp: Language, name: str, labels: Sequence[str], kinds: Sequence[str],
                 variants: bool, write_ents: bool, overwrite_ents: bool,
                 spans_key: Optional[str], span_labels: str, min_precision: float,
                 concept_prior: float, group_prior: float, abbreviations: bool = True,
                 scorer: Optional[Callable] = None):
        if span_labels not in SPAN_LABELS:
            raise ValueError(f"{name}: span_labels must be one of {SPAN_LABELS}, not {span_labels!r}")
        if not write_ents and not spans_key:
            raise ValueError(f"{name}: write_ents = false needs a spans_key, or it writes nothing")
        self.nlp = nlp
        self.name = name
        self.kinds = list(kinds)
        self.variants = bool(variants)
        self.write_ents = bool(write_ents)
        self.overwrite_ents = bool(overwrite_ents)
        self.spans_key = spans_key or None
        self.span_labels = span_labels
        self.abbreviations = bool(abbreviations)
        self.types = TypeMap(labels=labels, min_precision=min_precision,
                             concept_prior=concept_prior, group_prior=group_prior)
        self.matcher = KBMatcher(nlp.vocab)
        self.kb_checksum = ""
        self.scorer = scorer

    @property
    def labels(self) -> List[str]:
        return list(self.types.labels)

    @property
    def is_initialized(self) -> bool:
        return bool(self.matcher.phrases)

    # ----------------------------------------------------------------------- labelling
    def group_label(self, concept: Dict[str, Any]) -> str:
        """``orphanet_disease[_skin]``, ``omim_disease[_skin]`` or ``hpo_phenotype``."""
        group = self.types.group(concept)
        return group if concept.get("kind") in DISEASE_KINDS else concept.get("kind", group)

    def find(self, doc: Doc, candidates: Optional[List[Candidate]] = None) -> List[Span]:
        """Labelled, non-overlapping dictionary matches (labels: mapped types)."""
        self._require()
        labels: Dict[int, Optional[str]] = {}

        def keep(cand: Candidate) -> bool:
            if cand.concept not in labels:
                labels[cand.concept] = self.types.label(self.matcher.concepts[cand.concept])
            return labels[cand.concept] is not None

        if candidates is None:
            candidates = self.matcher.candidates(doc)
        kept = self.matcher.resolve(candidates, keep=keep)
        spans = [self.matcher.span(doc, cand, labels[cand.concept]) for cand in kept]
        return with_abbreviations(doc, spans) if self.abbreviations else spans

    def _require(self) -> None:
        if not self.is_initialized:
            raise ValueError(f"{self.name}: not initialized. Run nlp.initialize() with "
                             f"[initialize.components.{self.name}] kb = <knowledge-base folder>")

    def __call__(self, doc: Doc) -> Doc:
        self._require()
        candidates = self.matcher.candidates(doc)
        if self.spans_key:
            spans = []
            for cand in self.matcher.resolve(candidates):
                concept = self.matcher.concepts[cand.concept]
                label = (self.group_label(concept) if self.span_labels == "group"
                         else self.types.label(concept))
                if label:
                    spans.append(self.matcher.span(doc, cand, label))
            doc.spans[self.spans_key] = spans
        if self.write_ents:
            write_ents(doc, self.find(doc, candidates), self.overwrite_ents)
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterable[Doc]:
        for doc in stream:
            yield self(doc)

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        if self.scorer is None:
            return {}
        return self.scorer(examples, **kwargs)

    # -------------------------------------------------------------------- initializing
    def initialize(self, get_examples: Callable[[], Iterable[Example]], *,
                   nlp: Optional[Language] = None, kb: Optional[Union[str, Path]] = None,
                   examples: Optional[Callable[[Language], Iterable[Any]]] = None) -> None:
        """Build the matcher from the knowledge base ``kb`` and learn the type mapping on
        ``examples`` (gold Docs; default: ``get_examples``)."""
        if kb is None:
            raise ValueError(f"{self.name}: no knowledge base. Add [initialize.components.{self.name}] "
                             "kb = \"knowledge/...\" (built by `spacy project run knowledge`)")
        nlp = nlp or self.nlp
        start = time.time()
        base = KnowledgeBase.load(kb)
        self.matcher = KBMatcher.from_kb(base, nlp.tokenizer, kinds=self.kinds, variants=self.variants)
        self.kb_checksum = base.checksum
        logger.info("%s: %d phrases for %d concepts from %s in %.1fs", self.name, len(self.matcher),
                    len(self.matcher.concepts), kb, time.time() - start)
        source = examples(nlp) if examples is not None else get_examples()
        docs = [eg.reference if isinstance(eg, Example) else eg for eg in source]
        if not any(doc.ents for doc in docs):
            logger.warning("%s: no gold entities to learn the type mapping from; it keeps its "
                           "defaults (give [initialize.components.%s.examples])", self.name, self.name)
            return
        stats = self.types.learn(self.matcher, docs)
        logger.info("%s: type mapping learned from %d matches in %d docs (skin threshold %.2f)",
                    self.name, stats["matches"], stats["docs"], stats["skin_threshold"])

    # ------------------------------------------------------------------ serialization
    def _cfg(self) -> Dict[str, Any]:
        return {"kinds": self.kinds, "variants": self.variants, "kb_sha256": self.kb_checksum,
                "types": self.types.to_dict()}

    def _set_cfg(self, cfg: Dict[str, Any]) -> None:
        self.kb_checksum = cfg.get("kb_sha256", "")
        self.types.from_dict(cfg.get("types", {}))

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / CFG_FILE, self._cfg())
        (path / MATCHER_FILE).write_bytes(self.matcher.to_bytes())

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "RareDisDictionary":
        path = ensure_path(path)
        self._set_cfg(srsly.read_json(path / CFG_FILE))
        self.matcher = KBMatcher(self.nlp.vocab).from_bytes((path / MATCHER_FILE).read_bytes())
        self.matcher.matcher  # build the PhraseMatcher now, not in the first call
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return srsly.msgpack_dumps({"cfg": self._cfg(), "matcher": self.matcher.to_bytes()})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "RareDisDictionary":
        msg = srsly.msgpack_loads(data)
        self._set_cfg(msg["cfg"])
        self.matcher = KBMatcher(self.nlp.vocab).from_bytes(msg["matcher"])
        return self


@Language.factory(
    "raredis_dictionary",
    default_config={
        "labels": list(LABELS),
        "kinds": list(DEFAULT_KINDS),
        "variants": True,
        "write_ents": True,
        "overwrite_ents": True,
        "spans_key": None,
        "span_labels": "group",
        "min_precision": 0.25,
        "concept_prior": 2.0,
        "group_prior": 5.0,
        "abbreviations": True,
        "scorer": {"@scorers": "raredis.ner_scorer.v1"},
    },
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "token.ent_kb_id"],
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_raredis_dictionary(nlp: Language, name: str, labels: List[str], kinds: List[str],
                            variants: bool, write_ents: bool, overwrite_ents: bool,
                            spans_key: Optional[str], span_labels: str, min_precision: float,
                            concept_prior: float, group_prior: float, abbreviations: bool,
                            scorer: Optional[Callable]) -> RareDisDictionary:
    """Dictionary tagger + linker over the Orphanet / OMIM / HPO knowledge base.

    labels: RareDis types it may assign (the 4-type view: without SKINRAREDISEASE).
    kinds: knowledge-base kinds matched (orphanet_disease, omim_disease, hpo_phenotype, hpo_other).
    variants: also match name variants (syndrome <-> disease, without numbers/qualifiers).
    write_ents / overwrite_ents: write doc.ents, replacing them or filling gaps only.
    spans_key / span_labels: also write every kept match to doc.spans[spans_key],
        labelled by concept group ("group") or mapped type ("type").
    min_precision: a concept is tagged only if its learned type's probability reaches this.
    concept_prior / group_prior: pseudo-counts smoothing the learned mapping.
    abbreviations: tag "(ABBR)" right after a tagged span like the span.
    """
    return RareDisDictionary(nlp, name, labels=labels, kinds=kinds, variants=variants,
                             write_ents=write_ents, overwrite_ents=overwrite_ents,
                             spans_key=spans_key, span_labels=span_labels,
                             min_precision=min_precision, concept_prior=concept_prior,
                             group_prior=group_prior, abbreviations=abbreviations, scorer=scorer)
