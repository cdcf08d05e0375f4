"""raredis.NER.v1 end to end through spacy-llm with real spaCy pipelines.

The backend here is a *test double of the model*, not of the task: a deterministic local
spacy-llm model (``raredis_test.GoldEcho.v1``) that reads the text to annotate from the
end of each prompt and answers with the gold rendering in the task's output format
(optionally wrapped in prose / fences, or continuing with another "Text:" block like a
base model). Real backends are tested in tests/llm/test_backend*.py.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from spacy_llm.registry import registry as llm_registry

import raredis_llm.llm  # noqa: F401  (registers raredis.NER.v1 and the misc functions)
from raredis_llm.corpus import schema
from raredis_llm.ner.formats import get_format
from raredis_llm.ner.stats import DROP_REASONS
from raredis_llm.models.completion import Completion

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"

SENTENCES = [
    ("DOC-A", "Fabry disease is a rare disorder that causes pain in the hands.",
     [("Fabry disease", "RAREDISEASE"), ("pain", "SYMPTOM")]),
    ("DOC-A", "Patients with Fabry disease often have angiokeratomas and proteinuria.",
     [("Fabry disease", "RAREDISEASE"), ("angiokeratomas", "SIGN"), ("proteinuria", "SIGN")]),
    ("DOC-B", "Epidermolysis bullosa causes blisters on the skin after minor trauma.",
     [("Epidermolysis bullosa", "SKINRAREDISEASE"), ("blisters", "SIGN")]),
    ("DOC-B", "Infections and anemia are common complications.",
     [("Infections", "DISEASE"), ("anemia", "DISEASE")]),
    ("DOC-C", "Alport syndrome (AS) leads to hearing loss and kidney failure.",
     [("Alport syndrome", "RAREDISEASE"), ("AS", "RAREDISEASE"), ("hearing loss", "SIGN"),
      ("kidney failure", "DISEASE")]),
    ("DOC-C", "Fatigue and nausea were reported; fatigue improved with treatment.",
     [("Fatigue", "SYMPTOM"), ("nausea", "SYMPTOM"), ("fatigue", "SYMPTOM")]),
]


def make_doc(nlp, doc_id, index, text, mentions) -> Doc:
    doc = nlp.make_doc(text)
    ents, pos = [], 0
    for phrase, label in mentions:
        start = text.index(phrase, pos)
        pos = start + len(phrase)
        ents.append(doc.char_span(start, pos, label=label))
    assert all(e is not None for e in ents)
    doc.ents = ents
    doc.user_data[schema.DOC_ID] = doc_id
    doc.user_data[schema.SENT_INDEX] = index
    return doc


def gold_docs(nlp) -> List[Doc]:
    return [make_doc(nlp, d, i, t, m) for i, (d, t, m) in enumerate(SENTENCES)]


def write_corpus(tmp_path: Path, nlp) -> Dict[str, Path]:
    sents = gold_docs(nlp)
    paths = {"train": tmp_path / "train.spacy", "train_docs": tmp_path / "train_docs.spacy",
             "gold": tmp_path / "gold.jsonl"}
    DocBin(docs=sents, store_user_data=True).to_disk(paths["train"])
    by_doc: Dict[str, List[Doc]] = {}
    for doc in sents:
        by_doc.setdefault(doc.user_data[schema.DOC_ID], []).append(doc)
    docs = []
    for doc_id, parts in by_doc.items():
        doc = Doc.from_docs(parts, ensure_whitespace=True)
        doc.user_data = {schema.DOC_ID: doc_id, schema.SENT_INDEX: -1}
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(paths["train_docs"])
    with paths["gold"].open("w") as fh:
        for doc in sents:
            fh.write(json.dumps({"text": doc.text, "spans": [[e.start_char, e.end_char, e.label_]
                                                             for e in doc.ents]}) + "\n")
    return paths


class GoldEcho:
    """Answers each prompt with the gold rendering of the text it asks about."""

    def __init__(self, gold_path: str, output_format: str, mode: str, context_length: Optional[int],
                 labels_map: Dict[str, str]):
        self.gold = {}
        with open(gold_path) as fh:
            for line in fh:
                rec = json.loads(line)
                self.gold[rec["text"]] = [tuple(s) for s in rec["spans"]]
        self.fmt = get_format(output_format)
        self.mode = mode
        self._context_length = context_length
        self.labels_map = labels_map
        self.prompts: List[str] = []

    @property
    def context_length(self) -> Optional[int]:
        return self._context_length

    def tag_phrases(self, text: str):
        phrases = {(text_[s:e], l) for text_, spans in self.gold.items() for s, e, l in spans}
        found = []
        for phrase, label in sorted(phrases, key=lambda p: -len(p[0])):
            for m in re.finditer(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text):
                if all(m.end() <= s or e <= m.start() for s, e, _ in found):
                    found.append((m.start(), m.end(), label))
        return sorted(found)

    def answer(self, prompt: str) -> str:
        text = prompt.rsplit("\nText: ", 1)[1].rsplit("\nAnswer:", 1)[0]
        # a shard or a sentence: find its gold spans inside any gold text
        spans = self.gold.get(text)
        if spans is None:  # a shard of a longer text: tag every known gold phrase in it
            spans = self.tag_phrases(text)
        spans = [(s, e, self.labels_map.get(l, l)) for s, e, l in spans]
        answer = self.fmt.render(text, spans)
        if self.mode == "prose":
            answer = f"Sure, here it is:\n```\n{answer}\n```\nHope this helps."
        elif self.mode == "continue":
            answer = f" {answer}\nText: Another sentence.\nAnswer: <SIGN>Another</SIGN>"
        return answer

    def __call__(self, prompts: Iterable[Iterable[str]]) -> Iterable[Iterable[str]]:
        out = []
        for doc_prompts in prompts:
            answers = []
            for prompt in doc_prompts:
                self.prompts.append(prompt)
                answer = self.answer(prompt)
                answers.append(Completion(answer, usage={"prompt_tokens": len(prompt.split()),
                                                         "completion_tokens": len(answer.split())},
                                          cached=self.mode == "continue"))
            out.append(answers)
        return out


@llm_registry.llm_models("raredis_test.GoldEcho.v1")
def make_gold_echo(gold_path: str, output_format: str = "inline", mode: str = "gold",
                   context_length: Optional[int] = None,
                   labels_map: Dict[str, str] = {}) -> GoldEcho:
    return GoldEcho(gold_path, output_format, mode, context_length, labels_map)


def build_nlp(paths, task: dict, model: Optional[dict] = None, initialize: Optional[dict] = None):
    nlp = spacy.blank("en")
    model_cfg = {"@llm_models": "raredis_test.GoldEcho.v1", "gold_path": str(paths["gold"]),
                 "output_format": task.get("output_format", "inline")}
    model_cfg.update(model or {})
    nlp.add_pipe("llm", config={"task": {"@llm_tasks": "raredis.NER.v1", **task},
                                "model": model_cfg, "save_io": True})
    nlp.config["initialize"]["components"]["llm"] = initialize or {}
    return nlp


def corpus_reader(path) -> dict:
    return {"@readers": "spacy.Corpus.v1", "path": str(path), "gold_preproc": False}


@pytest.fixture
def paths(tmp_path):
    return write_corpus(tmp_path, spacy.blank("en"))


@pytest.mark.parametrize("output_format", ["inline", "json", "bio"])
@pytest.mark.parametrize("mode", ["gold", "prose", "continue"])
def test_zero_shot_end_to_end(paths, output_format, mode):
    nlp = build_nlp(paths, {"output_format": output_format}, {"mode": mode})
    nlp.initialize()
    gold = gold_docs(nlp)
    docs = list(nlp.pipe([d.text for d in gold], batch_size=4))
    for doc, ref in zip(docs, gold):
        assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in ref.ents]
        stats = doc.user_data[schema.PARSE_STATS]
        assert stats["given"] == stats["aligned"] == len(ref.ents)
        assert set(stats["dropped"]) == set(DROP_REASONS)
        usage = doc.user_data[schema.LLM_USAGE]
        assert usage["requests"] == 1 and usage["prompt_tokens"] > 50
        assert usage["cache_hits"] == (1 if mode == "continue" else 0)
        prompt = doc.user_data["llm_io"]["llm"]["prompt"][0]
        assert prompt.rstrip().endswith(f"Text: {ref.text}\nAnswer:")
        assert "SKINRAREDISEASE: A rare disease whose main manifestations are in the skin" in prompt
        assert "Examples:" not in prompt
    scores = nlp.evaluate([spacy.training.Example(nlp.make_doc(r.text), r) for r in gold])
    assert scores["ents_f"] == 1.0


def test_existing_entities_are_replaced(paths):
    nlp = build_nlp(paths, {})
    nlp.initialize()
    doc = gold_docs(nlp)[3]  # has gold ents and user_data already
    doc.ents = [doc.char_span(0, 10, label="SIGN")]
    out = nlp(doc)
    assert [(e.text, e.label_) for e in out.ents] == [("Infections", "DISEASE"), ("anemia", "DISEASE")]
    assert out.user_data[schema.DOC_ID] == "DOC-B"


def test_four_type_view(paths):
    labels = ["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]
    # the echo model answers with the 5-type gold: SKINRAREDISEASE is mapped by label_map
    nlp = build_nlp(paths, {"labels": labels, "examples": {"@misc": "raredis.RandomExamples.v1",
                                                             "k": 6, "seed": 1}},
                    initialize={"examples": corpus_reader(paths["train"])})
    nlp.initialize()
    task = nlp.get_pipe("llm").task
    assert task.labels == tuple(labels)
    doc = nlp(SENTENCES[2][1])
    assert [(e.text, e.label_) for e in doc.ents] == [("Epidermolysis bullosa", "RAREDISEASE"),
                                                     ("blisters", "SIGN")]
    prompt = doc.user_data["llm_io"]["llm"]["prompt"][0]
    assert "SKINRAREDISEASE" not in prompt
    assert "including rare diseases of the skin" in prompt
    assert "<RAREDISEASE>Epidermolysis bullosa</RAREDISEASE>" in prompt  # mapped example


def test_random_examples_fixed_and_seeded(paths):
    def prompts(seed):
        nlp = build_nlp(paths, {"examples": {"@misc": "raredis.RandomExamples.v1", "k": 2, "seed": seed}},
                        initialize={"examples": corpus_reader(paths["train"])})
        nlp.initialize()
        docs = list(nlp.pipe(["A new text about pain.", "Another text."]))
        return [d.user_data["llm_io"]["llm"]["prompt"][0] for d in docs]

    a, b = prompts(0)
    assert a.split("Now annotate")[0] == b.split("Now annotate")[0]  # same examples for all
    assert a.count("\nText: ") == 3
    assert prompts(0) == [a, b]  # seeded
    again = prompts(3)
    assert again[0].split("Now annotate")[0] != a.split("Now annotate")[0]


@pytest.mark.parametrize("output_format", ["json", "bio"])
def test_example_answers_in_output_format(paths, output_format):
    nlp = build_nlp(paths, {"output_format": output_format,
                            "examples": {"@misc": "raredis.RandomExamples.v1", "k": 6}},
                    initialize={"examples": corpus_reader(paths["train"])})
    nlp.initialize()
    doc = nlp("Some text.")
    prompt = doc.user_data["llm_io"]["llm"]["prompt"][0]
    if output_format == "json":
        assert 'Answer: [{"text": "Fabry disease", "label": "RAREDISEASE"}' in prompt
    else:
        assert "Answer:\nFabry\tB-RAREDISEASE\ndisease\tI-RAREDISEASE" in prompt


def test_initialize_without_corpus_fails_clearly(paths):
    nlp = build_nlp(paths, {"examples": {"@misc": "raredis.RandomExamples.v1"}})
    with pytest.raises(ValueError, match="initialize.components.llm.examples"):
        nlp.initialize()  # dummy examples only
    nlp = build_nlp(paths, {"retriever": {"@misc": "raredis.Retriever.v1",
                                          "embedder": {"@misc": "raredis.SentenceEmbedder.v1"}}})
    with pytest.raises(ValueError, match="knowledge_base"):
        nlp.initialize()


def test_uninitialized_selector_fails_clearly(paths):
    nlp = build_nlp(paths, {"examples": {"@misc": "raredis.RandomExamples.v1"}})
    with pytest.raises(ValueError, match="no example pool"):
        nlp("Some text.")


def test_user_overrides_definitions_and_template(paths, tmp_path):
    defs = tmp_path / "defs.yml"
    defs.write_text("description: Find the things.\nlabels:\n  SIGN: An observable finding.\n"
                    "guidelines:\n  - Be brief.\n")
    template = tmp_path / "t.jinja"
    template.write_text("{{ description }} {% for l in labels %}{{ l }}={{ label_definitions[l] }}"
                        "{% endfor %} {{ guidelines[0] }} {{ format_instructions }}\n"
                        "Text: {{ text }}\nAnswer:")
    nlp = build_nlp(paths, {"labels": "SIGN", "definitions": str(defs), "template": str(template)})
    nlp.initialize()
    doc = nlp(SENTENCES[1][1])
    assert [(e.text, e.label_) for e in doc.ents] == [("angiokeratomas", "SIGN"), ("proteinuria", "SIGN")]
    assert doc.user_data[schema.PARSE_STATS]["dropped"]["bad_label"] == 1  # Fabry disease
    prompt = doc.user_data["llm_io"]["llm"]["prompt"][0]
    assert prompt.startswith("Find the things. SIGN=An observable finding. Be brief. Answer with")


def test_bad_definitions_file(tmp_path):
    from raredis_llm.llm.task.definitions import load_definitions

    bad = tmp_path / "bad.yml"
    bad.write_text("labels: [a, b]\n")
    with pytest.raises(ValueError, match="bad.yml.*'labels'"):
        load_definitions(bad, ["SIGN"])
    with pytest.raises(FileNotFoundError, match="nope.yml"):
        load_definitions(tmp_path / "nope.yml", ["SIGN"])


def test_sharding_long_doc(paths):
    # A context length the prompt does not fit into forces shards; entities survive.
    nlp = build_nlp(paths, {}, {"context_length": 420})
    nlp.initialize()
    text = " ".join(t for _, t, _ in SENTENCES)
    doc = nlp(text)
    prompts = doc.user_data["llm_io"]["llm"]["prompt"]
    assert len(prompts) > 1
    ref = make_doc(nlp, "X", -1, text, [(p, l) for _, _, m in SENTENCES for p, l in m])
    expected = {(e.start_char, e.end_char, e.label_) for e in ref.ents}
    found = {(e.start_char, e.end_char, e.label_) for e in doc.ents}
    # a mention cut by a shard boundary may be lost; all others are found, in place
    assert found <= expected and len(found) >= len(expected) - (len(prompts) - 1)
    assert doc.user_data[schema.LLM_USAGE]["requests"] == len(prompts)
    assert doc.user_data[schema.PARSE_STATS]["aligned"] == len(found)


def test_serialization_bytes_round_trip(paths):
    nlp = build_nlp(paths, {"examples": {"@misc": "raredis.RandomExamples.v1", "k": 2}},
                    initialize={"examples": corpus_reader(paths["train"])})
    nlp.initialize()
    data = nlp.to_bytes()
    nlp2 = build_nlp(paths, {"examples": {"@misc": "raredis.RandomExamples.v1", "k": 2}})
    nlp2.from_bytes(data)
    assert nlp2.get_pipe("llm").task.examples.pool.records == nlp.get_pipe("llm").task.examples.pool.records
    text = "A text."
    assert nlp2(text).user_data["llm_io"]["llm"]["prompt"] == nlp(text).user_data["llm_io"]["llm"]["prompt"]


# ------------------------------------------------------------------ configs (assemble)
def load_project_config(name: str, paths, model: Optional[dict] = None):
    config = spacy.util.load_config(CONFIGS / name, overrides={
        "paths.train": str(paths["train"]), "paths.dev": str(paths["train"]),
        "paths.train_docs": str(paths["train_docs"])}, interpolate=False)
    config["components"]["llm"]["model"] = model or {
        "@llm_models": "raredis_test.GoldEcho.v1", "gold_path": str(paths["gold"]),
        "output_format": config["components"]["llm"]["task"].get("output_format", "inline")}
    return config


def assemble(config, output: Path):
    """What `spacy assemble` does."""
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    nlp.to_disk(output)
    return nlp


ALL_CONFIGS = ["llm_zeroshot.cfg", "llm_fewshot_random.cfg", "llm_fewshot_knn.cfg",
               "llm_fewshot_cluster.cfg", "llm_rag.cfg", "llm_rag_knn.cfg"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_CONFIGS)
def test_project_configs_assemble_and_run(paths, tmp_path, name):
    config = load_project_config(name, paths)
    nlp = assemble(config, tmp_path / "pipeline")
    gold = gold_docs(nlp)
    docs = list(nlp.pipe([d.text for d in gold]))
    for doc, ref in zip(docs, gold):
        assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in ref.ents]
    task = nlp.get_pipe("llm").task
    prompt = list(task.generate_prompts([nlp.make_doc(SENTENCES[4][1])]))[0][0][0]
    assert ("Examples:" in prompt) == (task.examples is not None)
    assert ("Background passages" in prompt) == (task.retriever is not None)
    if task.examples is not None and task.examples.uses_embeddings:  # nearest first: itself
        assert prompt.split("Examples:")[1].split("\nText: ")[1].startswith(SENTENCES[4][1])
    if "rag" in name:
        assert "[1] " + SENTENCES[4][1].split(" (")[0] in prompt  # DOC-C chunk ranks first
        assert (tmp_path / "pipeline" / "llm" / "task" / "retriever" / "window_embeddings.npy").exists()
        assert set(task.retriever.doc_ids) == {"DOC-A", "DOC-B", "DOC-C"}
    if task.examples is not None and task.examples.uses_embeddings:
        assert (tmp_path / "pipeline" / "llm" / "task" / "examples" / "embeddings.npy").exists()


def test_spacy_ner_v3_baseline_config(paths):
    config = load_project_config("llm_spacy_ner_v3.cfg", paths, model={"@llm_models": "spacy.NoOp.v1"})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    task = nlp.get_pipe("llm").task
    assert set(task.labels) == {"RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"}
    prompt = list(task.generate_prompts([nlp.make_doc("Fabry disease causes pain.")]))[0][0][0]
    assert "A rare disease whose main manifestations are in the skin" in prompt
    assert "Fabry disease causes pain." in prompt


@pytest.mark.slow
def test_saved_index_loads_in_fresh_process_without_corpus(paths, tmp_path):
    config = load_project_config("llm_rag_knn.cfg", paths)
    nlp = assemble(config, tmp_path / "pipeline")
    expected = nlp.get_pipe("llm").task.examples.select([nlp.make_doc(SENTENCES[0][1])])
    # the corpus is gone; a new process loads the pipeline (model swapped for a no-op)
    for p in paths.values():
        p.unlink()
    script = f"""
import json, time, spacy, numpy as np
import raredis_llm.llm
t0 = time.time()
nlp = spacy.load({str(tmp_path / 'pipeline')!r}, config={{"components": {{"llm": {{"model": {{"@llm_models": "spacy.NoOp.v1"}}}}}}}})
task = nlp.get_pipe("llm").task
ex = task.examples
ret = task.retriever
picked = ex.select([nlp.make_doc({SENTENCES[0][1]!r})])[0]
passages = ret.retrieve([nlp.make_doc({SENTENCES[0][1]!r})])[0]
print(json.dumps({{"pool": len(ex.pool), "emb": list(ex.pool.embeddings.shape),
                  "chunks": len(ret.chunks), "first": picked[0]["text"],
                  "passage_doc": passages[0]["doc_id"], "load_s": time.time() - t0}}))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "components"), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["pool"] == len(SENTENCES)
    assert result["emb"] == [len(SENTENCES), 384]
    assert result["chunks"] == 3
    assert result["first"] == expected[0][0]["text"] == SENTENCES[0][1]
    assert result["passage_doc"] == "DOC-A"


def test_parse_responses_plain_strings_and_garbage():
    """Plain ``str`` answers (no .usage) count requests only; garbage never raises."""
    from raredis_llm.llm.task import make_raredis_ner_task

    nlp = spacy.blank("en")
    task = make_raredis_ner_task(output_format="json")
    docs = [nlp.make_doc("Fever and rash."), nlp.make_doc("Nothing here."), nlp.make_doc("Pain.")]
    answers = [['[{"text": "fever", "label": "sign"}, {"text": "rash", "label": "SIGN"}]\nText: more'],
               ["<<<not json at all"], [None]]
    out = list(task.parse_responses([[d] for d in docs], answers))
    assert [(e.text, e.label_) for e in out[0].ents] == [("Fever", "SIGN"), ("rash", "SIGN")]
    assert out[0].user_data[schema.PARSE_STATS]["match"]["case"] == 1
    assert out[1].ents == () and out[2].ents == ()
    for doc in out:
        assert doc.user_data[schema.LLM_USAGE] == {"prompt_tokens": 0, "completion_tokens": 0,
                                                   "requests": 1, "cache_hits": 0}


def test_labels_api():
    from raredis_llm.llm.task import make_raredis_ner_task

    task = make_raredis_ner_task(labels="SIGN, SYMPTOM", label_map={})
    assert task.labels == ("SIGN", "SYMPTOM")
    assert task.add_label("GENE", "A gene name.") == 1 and task.add_label("GENE") == 0
    assert task.label_definitions["GENE"] == "A gene name."
    assert task.parser_labels() == {"SIGN": "SIGN", "SYMPTOM": "SYMPTOM", "GENE": "GENE"}
    with pytest.raises(ValueError, match="Unknown output format"):
        make_raredis_ner_task(output_format="xml")
    with pytest.raises(ValueError, match="no labels"):
        make_raredis_ner_task(labels="")
