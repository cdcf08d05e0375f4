"""Which RareDis type a knowledge-base concept gets: a mapping learned on training data.

Every concept belongs to a *group*: ``orphanet_disease`` / ``omim_disease``, each with a
``_skin`` twin for diseases whose share of skin phenotypes is at least ``skin_threshold``,
and ``hpo:<branch>`` for HPO phenotypes (the top-level branch under "Phenotypic
abnormality", e.g. ``hpo:HP:0000707`` nervous system). Before learning, a group maps to a
default (Orphanet and OMIM diseases -> RAREDISEASE, their skin twins -> SKINRAREDISEASE,
HPO phenotypes -> SIGN).

``learn(matcher, docs)`` runs the matcher over gold Docs (the training split) and counts,
per concept and per group, the gold type of the span each match covers (``O`` when no
gold entity has exactly that span). It picks the skin threshold that best separates
SKINRAREDISEASE from RAREDISEASE matches, then sets each group's distribution (counts plus
``group_prior`` pseudo-counts on the default) and each seen concept's (counts plus
``concept_prior`` pseudo-counts spread as its group's). A concept's label is its most
likely type if that type's probability (the expected precision of the match) reaches
``min_precision``; otherwise its matches are dropped (label None).
"""

from collections import Counter, defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence

from spacy.tokens import Doc

from ..labels import LABELS
from .kb import DISEASE_KINDS, HPO_PHENOTYPE, OMIM, ORPHANET, SKIN_MAJORITY
from .matcher import KBMatcher

OUTSIDE = "O"
SKIN_THRESHOLDS = (0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
DEFAULT_LABELS = {ORPHANET: "RAREDISEASE", OMIM: "RAREDISEASE", "hpo": "SIGN"}


class TypeMap:
    """Concept -> RareDis label (or None: not tagged); see the module docstring."""

    def __init__(self, labels: Sequence[str] = LABELS, min_precision: float = 0.25,
                 concept_prior: float = 2.0, group_prior: float = 5.0,
                 skin_threshold: float = SKIN_MAJORITY):
        self.labels = list(labels)
        self.min_precision = float(min_precision)
        self.concept_prior = float(concept_prior)
        self.group_prior = float(group_prior)
        self.skin_threshold = float(skin_threshold)
        self.group_dist: Dict[str, Dict[str, float]] = {}
        self.concept_dist: Dict[str, Dict[str, float]] = {}
        self.stats: Dict[str, Any] = {}

    # ------------------------------------------------------------------------- groups
    def group(self, concept: Dict[str, Any]) -> str:
        kind = concept.get("kind", "")
        if kind in DISEASE_KINDS:
            skin = (concept.get("skin_fraction") or 0.0) >= self.skin_threshold
            return f"{kind}_skin" if skin else kind
        if kind == HPO_PHENOTYPE:
            cats = concept.get("categories") or []
            return f"hpo:{cats[0]}" if cats else "hpo"
        return kind

    def default_label(self, group: str) -> Optional[str]:
        if group.endswith("_skin"):
            label = "SKINRAREDISEASE"
        else:
            label = DEFAULT_LABELS.get(group.split(":", 1)[0])
        return self._in_view(label)

    def _in_view(self, label: Optional[str]) -> Optional[str]:
        """``label`` if it is one of ``labels``; SKINRAREDISEASE -> RAREDISEASE in a
        4-type label set."""
        if label in self.labels:
            return label
        if label == "SKINRAREDISEASE" and "RAREDISEASE" in self.labels:
            return "RAREDISEASE"
        return None

    def _prior(self, group: str) -> Dict[str, float]:
        if group in self.group_dist:
            return self.group_dist[group]
        default = self.default_label(group)
        return {default: 1.0} if default else {OUTSIDE: 1.0}

    # ------------------------------------------------------------------------ mapping
    def distribution(self, concept: Dict[str, Any]) -> Dict[str, float]:
        return self.concept_dist.get(concept["id"]) or self._prior(self.group(concept))

    def label(self, concept: Dict[str, Any]) -> Optional[str]:
        dist = self.distribution(concept)
        best = max((lab for lab in dist if lab != OUTSIDE), key=lambda lab: (dist[lab], -self._rank(lab)),
                   default=None)
        if best is None or dist[best] < self.min_precision:
            return None
        return best

    def _rank(self, label: str) -> int:
        return LABELS.index(label) if label in LABELS else len(LABELS)

    # ----------------------------------------------------------------------- learning
    def learn(self, matcher: KBMatcher, docs: Iterable[Doc]) -> Dict[str, Any]:
        """Learn from gold Docs (``doc.ents``); return what was counted."""
        observations: List[tuple] = []  # (concept index, gold label)
        n_docs = 0
        for doc in docs:
            n_docs += 1
            gold = {(e.start, e.end): self._in_view(e.label_) or OUTSIDE for e in doc.ents}
            for cand in matcher.resolve(matcher.candidates(doc)):
                observations.append((cand.concept, gold.get((cand.start, cand.end), OUTSIDE)))
        self.skin_threshold = self._learn_skin_threshold(matcher, observations)
        per_group: Dict[str, Counter] = defaultdict(Counter)
        per_concept: Dict[int, Counter] = defaultdict(Counter)
        for idx, label in observations:
            per_group[self.group(matcher.concepts[idx])][label] += 1
            per_concept[idx][label] += 1
        self.group_dist = {}
        for group, counts in per_group.items():
            default = self.default_label(group)
            total = sum(counts.values()) + self.group_prior
            dist = {lab: n / total for lab, n in counts.items()}
            key = default or OUTSIDE
            dist[key] = dist.get(key, 0.0) + self.group_prior / total
            self.group_dist[group] = dist
        self.concept_dist = {}
        for idx, counts in per_concept.items():
            concept = matcher.concepts[idx]
            prior = self._prior(self.group(concept))
            total = sum(counts.values()) + self.concept_prior
            dist = {lab: (counts.get(lab, 0) + self.concept_prior * prior.get(lab, 0.0)) / total
                    for lab in set(counts) | set(prior)}
            self.concept_dist[concept["id"]] = dist
        self.stats = {
            "docs": n_docs, "matches": len(observations), "skin_threshold": self.skin_threshold,
            "groups": {g: dict(sorted(c.items())) for g, c in sorted(per_group.items())},
            "concepts_seen": len(per_concept),
        }
        return self.stats

    def _learn_skin_threshold(self, matcher: KBMatcher, observations: List[tuple]) -> float:
        """The threshold (of :data:`SKIN_THRESHOLDS`) under which most disease matches
        with gold RAREDISEASE / SKINRAREDISEASE fall on the right side."""
        if "SKINRAREDISEASE" not in self.labels:
            return self.skin_threshold
        pairs = [(matcher.concepts[i].get("skin_fraction") or 0.0, label == "SKINRAREDISEASE")
                 for i, label in observations
                 if label in ("RAREDISEASE", "SKINRAREDISEASE") and matcher.concepts[i]["kind"] in DISEASE_KINDS]
        if not any(skin for _, skin in pairs):
            return self.skin_threshold
        best = max(SKIN_THRESHOLDS, key=lambda t: (sum((f >= t) == skin for f, skin in pairs), t))
        return best

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> Dict[str, Any]:
        return {"labels": self.labels, "min_precision": self.min_precision,
                "concept_prior": self.concept_prior, "group_prior": self.group_prior,
                "skin_threshold": self.skin_threshold, "group_dist": self.group_dist,
                "concept_dist": self.concept_dist, "stats": self.stats}

    def from_dict(self, data: Dict[str, Any]) -> "TypeMap":
        for key in ("labels", "min_precision", "concept_prior", "group_prior", "skin_threshold",
                    "group_dist", "concept_dist", "stats"):
            if key in data:
                setattr(self, key, data[key])
        return self

    def table(self) -> List[List[Any]]:
        """Rows ``group, matches, gold-type counts, label`` of the learned groups."""
        rows = []
        for group, counts in (self.stats.get("groups") or {}).items():
            dist = self.group_dist.get(group, {})
            best = max((lab for lab in dist if lab != OUTSIDE), key=lambda lab: dist[lab], default=None)
            label = best if best and dist[best] >= self.min_precision else None
            rows.append([group, sum(counts.values()),
                         " ".join(f"{k}:{v}" for k, v in counts.items()), label or "-"])
        return rows
