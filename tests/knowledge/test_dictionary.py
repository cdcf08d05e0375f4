"""raredis_dictionary in real spaCy pipelines on the real knowledge base."""

import json
import os
import subprocess
import sys

import pytest
import spacy
from spacy.training import Example

from raredis_llm.knowledge.dictionary import GROUP_LABELS  # (registers the factory without the entry points)

from tests.knowledge.test_typemap import DOCS
from tests.lean_load import not_for_loading


@pytest.fixture(scope="module")
def nlp(real_kb_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_dictionary", config={"min_precision": 0.4})
    nlp.config["initialize"]["components"]["raredis_dictionary"] = {"kb": str(real_kb_path)}
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in DOCS])
    return nlp


def ents(doc):
    return [(e.text, e.label_, e.kb_id_) for e in doc.ents]


def test_clinical_sentence_with_repeats_variants_and_kb_ids(nlp):
    doc = nlp("Fabry disease (FD) causes burning pain; FABRY DISEASE and Fabry's disease are X-linked, "
              "and seizures or a seizure may occur in ataxia telangiectasia and Ataxia-Telangiectasia.")
    assert ents(doc) == [
        ("Fabry disease", "RAREDISEASE", "ORPHA:324"), ("FD", "RAREDISEASE", "ORPHA:324"),
        ("pain", "SYMPTOM", "HP:0012531"), ("FABRY DISEASE", "RAREDISEASE", "ORPHA:324"),
        ("Fabry's disease", "RAREDISEASE", "ORPHA:324"), ("seizures", "SIGN", "HP:0001250"),
        ("seizure", "SIGN", "HP:0001250"), ("ataxia telangiectasia", "RAREDISEASE", "ORPHA:100"),
        ("Ataxia-Telangiectasia", "RAREDISEASE", "ORPHA:100")]


def test_overlaps_keep_the_longest_match(nlp):
    doc = nlp("Charcot-Marie-Tooth disease type 1A is not Charcot-Marie-Tooth disease type 1B.")
    assert [e.kb_id_ for e in doc.ents] == ["ORPHA:101081", "ORPHA:101082"]
    # spaCy keeps a sentence-final "1B." as one token: the match covers the token
    assert [e.text for e in doc.ents] == ["Charcot-Marie-Tooth disease type 1A", "Charcot-Marie-Tooth disease type 1B."]


def test_fill_only_keeps_existing_entities(real_kb_path, nlp):
    fill = spacy.blank("en")
    fill.add_pipe("raredis_dictionary", config={"overwrite_ents": False})
    fill.get_pipe("raredis_dictionary").from_bytes(nlp.get_pipe("raredis_dictionary").to_bytes())
    doc = fill.make_doc("Fabry disease causes pain.")
    doc.ents = [doc.char_span(0, 13, label="DISEASE")]
    doc = fill.get_pipe("raredis_dictionary")(doc)
    assert ents(doc) == [("Fabry disease", "DISEASE", ""), ("pain", "SYMPTOM", "HP:0012531")]
    over = nlp.get_pipe("raredis_dictionary")(doc)
    assert ents(over)[0] == ("Fabry disease", "RAREDISEASE", "ORPHA:324")


def test_sourced_into_an_existing_pipeline(nlp):
    other = spacy.blank("en")
    ruler = other.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "DISEASE", "pattern": "Fabry disease"}])
    other.add_pipe("raredis_dictionary", source=nlp)
    assert ents(other("Fabry disease causes pain."))[0] == ("Fabry disease", "RAREDISEASE", "ORPHA:324")
    other.get_pipe("raredis_dictionary").overwrite_ents = False
    assert ents(other("Fabry disease causes pain.")) == [
        ("Fabry disease", "DISEASE", ""), ("pain", "SYMPTOM", "HP:0012531")]


def test_spans_for_features_and_no_ents(real_kb_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_dictionary", config={"write_ents": False, "spans_key": "raredis_kb"})
    nlp.get_pipe("raredis_dictionary").initialize(lambda: [], nlp=nlp, kb=real_kb_path)
    doc = nlp("Fabry disease causes pain.")
    assert doc.ents == ()
    assert [(s.text, s.label_, s.kb_id_) for s in doc.spans["raredis_kb"]] == [
        ("Fabry disease", "orphanet_disease", "ORPHA:324"), ("pain", "hpo_phenotype", "HP:0012531")]
    assert {s.label_ for s in doc.spans["raredis_kb"]} <= set(GROUP_LABELS)
    with pytest.raises(ValueError, match="needs a spans_key"):
        spacy.blank("en").add_pipe("raredis_dictionary", config={"write_ents": False})


def test_uninitialized_component_says_so():
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_dictionary")
    with pytest.raises(ValueError, match="not initialized"):
        nlp("Fabry disease")
    with pytest.raises(ValueError, match="no knowledge base"):
        nlp.initialize()


@pytest.mark.slow
def test_saved_pipeline_loads_offline_without_the_knowledge_base(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipeline")
    code = ("import json, sys, spacy; nlp = spacy.load(r'%s'); doc = nlp('Fabry disease causes seizures.');"
            "print([(e.text, e.label_, e.kb_id_) for e in doc.ents]); print(json.dumps(sorted(sys.modules)))"
            % (tmp_path / "pipeline"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    # another working directory, and the entry points (not an import) find the factory
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    ents, modules = out.stdout.strip().splitlines()[-2:]
    assert ents == "[('Fabry disease', 'RAREDISEASE', 'ORPHA:324'), ('seizures', 'SIGN', 'HP:0001250')]"
    # the saved dictionary is all it needs: not the builder, the retriever or the feature layers
    assert not_for_loading(json.loads(modules)) == []
    assert nlp.config["components"]["raredis_dictionary"]["min_precision"] == 0.4
