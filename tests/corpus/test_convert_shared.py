"""The shared RareDis copy converts with the counts published in its README."""

import json

import pytest
import spacy
from spacy.tokens import DocBin

from raredis_llm.corpus import schema

# ../shared/raredis/README.md: entities per type and relations per original split.
README_COUNTS = {
    "train": {"documents": 729, "RAREDISEASE": 3157, "SKINRAREDISEASE": 451, "DISEASE": 1647, "SIGN": 3744,
              "SYMPTOM": 319, "ANAPHOR": 1108, "discontinuous": 664, "relations": 6347},
    "dev": {"documents": 104, "RAREDISEASE": 480, "SKINRAREDISEASE": 45, "DISEASE": 230, "SIGN": 528,
            "SYMPTOM": 24, "ANAPHOR": 151, "discontinuous": 103, "relations": 867},
}

pytestmark = pytest.mark.slow


def _sum(report, splits):
    total = {}
    for split in splits:
        stats = report["splits"][split]
        total["documents"] = total.get("documents", 0) + stats["documents"]
        total["relations"] = total.get("relations", 0) + stats["relations"]
        for label, c in stats["entities"].items():
            total[label] = total.get(label, 0) + c["read"]
            total["discontinuous"] = total.get("discontinuous", 0) + c.get("discontinuous", 0)
    return total


def test_counts_match_readme(converted_corpus):
    out, report = converted_corpus
    assert _sum(report, ["train", "validation"]) == README_COUNTS["train"]
    assert _sum(report, ["test"]) == README_COUNTS["dev"]
    issues = {k: sum(report["splits"][s]["issues"].get(k, 0) for s in report["splits"]) for k in ("quote_doubling",)}
    assert issues["quote_doubling"] == 16
    assert report["splits"]["validation"]["documents"] == 73  # 10% of 729 train documents
    splits = json.loads((out / "splits.json").read_text())["documents"]
    assert not set(splits["validation"]) & set(splits["train"])


def test_docbins_hold_every_entity(converted_corpus):
    out, report = converted_corpus
    nlp = spacy.blank("en")
    for split in ("train", "validation", "test"):
        docs = list(DocBin().from_disk(out / "docs" / f"{split}.spacy").get_docs(nlp.vocab))
        sents = list(DocBin().from_disk(out / f"{split}.spacy").get_docs(nlp.vocab))
        stats = report["splits"][split]
        assert len(docs) == stats["documents"] and len(sents) == stats["sentences"]
        n_ents = sum(c.get("in_ents", 0) for c in stats["entities"].values())
        assert sum(len(d.ents) for d in docs) == n_ents == sum(len(s.ents) for s in sents)
        n_read = sum(c["read"] for c in stats["entities"].values())
        assert sum(len(d.user_data[schema.ANNOTATION]["entities"]) for d in docs) == n_read
    # published sentence counts (Lu et al. 2024): train 6281, dev 894; ours are within 1%
    assert abs(report["splits"]["train"]["sentences"] + report["splits"]["validation"]["sentences"] - 6281) < 63
    assert abs(report["splits"]["test"]["sentences"] - 894) < 9
