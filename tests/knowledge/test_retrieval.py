"""raredis.KBRetriever.v1: knowledge-base entries in raredis.NER.v1 prompts (tiny knowledge
base with its real MiniLM index; the LLM swapped for spacy-llm's no-op model)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

import raredis_llm.llm  # noqa: F401
from raredis_llm.knowledge.retrieval import make_kb_retriever
from raredis_llm.llm.embeddings import SentenceEmbedder

from tests.knowledge.kb_data import gold_doc

ROOT = Path(__file__).resolve().parents[2]
SEIZURE_DEF = "A seizure is an intermittent abnormality of nervous system physiology"
RENAL_DEF = "A reduction in the level of performance of the kidneys"


@pytest.fixture(scope="module")
def retriever(tiny_kb_path):
    r = make_kb_retriever(kb=str(tiny_kb_path), embedder=SentenceEmbedder(), top_k=3)
    r.initialize()
    return r


def ids(passages):
    return [(p["id"], p["source"]) for p in passages]


def test_dictionary_matches_first_then_embedding_neighbours(retriever):
    nlp = spacy.blank("en")
    docs = [nlp("Seizures are frequent in Fabry disease."),
            nlp("Body temperature was elevated above the normal range."),
            nlp("Repeated epileptic seizures and seizures again.")]
    first, second, third = retriever.retrieve(docs)
    # diseases before phenotypes, then the nearest name by embedding
    assert ids(first)[:2] == [("ORPHA:324", "dictionary"), ("HP:0001250", "dictionary")]
    assert first[2]["source"] == "embedding" and first[2]["id"] not in {"ORPHA:324", "HP:0001250"}
    assert first[0]["score"] is None and isinstance(first[2]["score"], float)
    # no name in the text: embedding neighbours only, best first
    assert [p["source"] for p in second] == ["embedding"] * 3
    assert second[0]["id"] == "HP:0001945"  # Fever
    assert [p["score"] for p in second] == sorted((p["score"] for p in second), reverse=True)
    # a concept matched twice is retrieved once
    assert ids(third)[0] == ("HP:0001250", "dictionary") and len({p["id"] for p in third}) == 3
    fabry = first[0]
    assert fabry["kind_name"] == "rare disease (Orphanet)"
    assert fabry["phenotypes"] == ["Renal insufficiency", "Pain", "Angiokeratoma", "Hearing impairment"]
    assert first[1]["definition"].startswith(SEIZURE_DEF)


def test_definitions_are_cut_to_length(tiny_kb_path):
    r = make_kb_retriever(kb=str(tiny_kb_path), embedder=SentenceEmbedder(), top_k=1, max_definition_words=5)
    r.initialize()
    passage = r.retrieve([spacy.blank("en")("Seizures.")])[0][0]
    assert passage["definition"] == "A seizure is an intermittent ..."


def load_config(name, kb_path, train_path):
    config = spacy.util.load_config(ROOT / "configs" / name, overrides={
        "paths.kb": str(kb_path), "paths.train": str(train_path)}, interpolate=False)
    config["components"]["llm"]["model"] = {"@llm_models": "spacy.NoOp.v1"}
    return config


def write_train(path):
    docs = [gold_doc("Fabry disease causes pain.", [("Fabry disease", "RAREDISEASE"), ("pain", "SYMPTOM")]),
            gold_doc("Seizures occur in Alport syndrome.", [("Seizures", "SIGN"), ("Alport syndrome", "RAREDISEASE")])]
    DocBin(docs=docs).to_disk(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", ["llm_rag_kb.cfg", "llm_rag_kb_knn.cfg"])
def test_project_config_prompt_shows_the_entries_and_reloads_without_kb(name, tiny_kb_path, tmp_path):
    train = write_train(tmp_path / "train.spacy")
    kb_copy = tmp_path / "kb"
    shutil.copytree(tiny_kb_path, kb_copy)
    config = load_config(name, kb_copy, train)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    task = nlp.get_pipe("llm").task
    text = "Kidney failure and seizures are seen in Fabry disease."
    prompt = list(task.generate_prompts([nlp.make_doc(text)]))[0][0][0]
    assert "Knowledge base entries (Orphanet, OMIM, Human Phenotype Ontology)" in prompt
    assert "[1] Fabry disease - rare disease (Orphanet). Typical features: Renal insufficiency, Pain" in prompt
    assert "[2] Renal insufficiency - phenotype (HPO) (also: Renal failure; Kidney failure). Definition: " + RENAL_DEF in prompt
    assert "Background passages" not in prompt  # not the training-document context
    assert ("Examples:" in prompt) == ("knn" in name)
    assert prompt.rstrip().endswith("Text: " + text + "\nAnswer:")
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(kb_copy)  # spacy.load needs neither the knowledge base ...
    train.unlink()  # ... nor the corpus
    script = f"""
import json, spacy
nlp = spacy.load({str(tmp_path / 'pipeline')!r}, config={{"components": {{"llm": {{"model": {{"@llm_models": "spacy.NoOp.v1"}}}}}}}})
task = nlp.get_pipe("llm").task
print(json.dumps(list(task.generate_prompts([nlp.make_doc({text!r})]))[0][0][0]))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == prompt
