import json

import pytest
import spacy

from raredis_llm.corpus import schema
from raredis_llm.models.completion import Completion
import raredis_llm.pipeline  # noqa: F401  (registers the factory)

TEXT = "Fabry disease causes pain in the hands. Patients may have fever.\nIt is rare."
GOLD = {  # per sentence, offsets into the sentence
    0: [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")],
    1: [(18, 23, "SIGN")],
    2: [],
}


def _answers(component, doc, gold=GOLD):
    """The answers a perfect model would give, rendered by the real output format."""
    out = []
    for i, (s, e) in enumerate(component.sentences(doc)):
        text = doc.text[s:e]
        out.append(Completion(component.prompt.render_answer(text, gold[i]),
                              usage={"prompt_tokens": 100, "completion_tokens": 10}))
    return out


def test_offsets_are_mapped_back_to_the_doc():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("raredis_llm_ner")
    doc = nlp.make_doc(TEXT)
    sents = ner.sentences(doc)
    assert [doc.text[s:e] for s, e in sents] == [
        "Fabry disease causes pain in the hands.", "Patients may have fever.", "It is rare."]
    ner.set_annotations([doc], [_answers(ner, doc)])
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Fabry disease", "RAREDISEASE"), ("pain", "SYMPTOM"), ("fever", "SIGN")]
    assert doc.ents[2].start_char == TEXT.index("fever")
    stats = doc.user_data[schema.PARSE_STATS]
    assert stats["given"] == stats["aligned"] == 3
    usage = doc.user_data[schema.LLM_USAGE]
    assert usage == {"prompt_tokens": 300, "completion_tokens": 30, "requests": 3, "cache_hits": 0}


@pytest.mark.parametrize("fmt", ["json", "bio"])
def test_other_formats_map_back_too(fmt):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("raredis_llm_ner", config={"output_format": fmt})
    doc = nlp.make_doc(TEXT)
    ner.set_annotations([doc], [_answers(ner, doc)])
    assert [e.text for e in doc.ents] == ["Fabry disease", "pain", "fever"]


def test_bad_answers_are_counted_not_raised():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("raredis_llm_ner")
    doc = nlp.make_doc(TEXT)
    answers = ["<SIGN>Fabry disease causes pain", "Patients may have <FOO>fever</FOO>.", ""]
    ner.set_annotations([doc], [answers])
    assert list(doc.ents) == []
    dropped = doc.user_data[schema.PARSE_STATS]["dropped"]
    assert dropped["malformed"] == 1 and dropped["bad_label"] == 1
    with pytest.raises(ValueError, match="answers for 3 sentences"):
        ner.set_annotations([doc], [answers[:2]])


def test_doc_sents_are_used_when_set():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ner = nlp.add_pipe("raredis_llm_ner")
    doc = nlp.get_pipe("sentencizer")(nlp.make_doc("One. Two three.  "))
    assert ner.sentences(doc) == [(0, 4), (5, 15)]
    ner2 = spacy.blank("en").add_pipe("raredis_llm_ner", config={"use_doc_sents": False})
    assert ner2.sentences(nlp.make_doc("A line\nanother line")) == [(0, 6), (7, 19)]


@pytest.mark.parametrize("overwrite", [True, False])
def test_overwrite_or_add_after_an_entity_ruler(overwrite):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "RAREDISEASE", "pattern": "Fabry disease"},
                        {"label": "DISEASE", "pattern": "hands"}])
    ner = nlp.add_pipe("raredis_llm_ner", config={"overwrite_ents": overwrite})
    doc = ruler(nlp.make_doc(TEXT))
    assert [e.text for e in doc.ents] == ["Fabry disease", "hands"]
    gold = {0: [(0, 5, "SIGN"), (21, 25, "SYMPTOM")], 1: [(18, 23, "SIGN")], 2: []}
    ner.set_annotations([doc], [_answers(ner, doc, gold)])
    got = [(e.text, e.label_) for e in doc.ents]
    if overwrite:
        assert got == [("Fabry", "SIGN"), ("pain", "SYMPTOM"), ("fever", "SIGN")]
    else:  # "Fabry" overlaps the ruler's entity: dropped; the others are added
        assert got == [("Fabry disease", "RAREDISEASE"), ("pain", "SYMPTOM"), ("hands", "DISEASE"),
                       ("fever", "SIGN")]


@pytest.mark.slow
def test_to_disk_from_disk_round_trip_and_tagging(untrained_adapter, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_llm_ner", config={"adapter": str(untrained_adapter), "dtype": "float32",
                                            "max_new_tokens_cap": 12})
    nlp.to_disk(tmp_path / "pipeline")
    saved = tmp_path / "pipeline" / "raredis_llm_ner"
    assert (saved / "adapter" / "adapter_config.json").exists()
    assert (saved / "adapter" / "adapter_model.safetensors").exists()
    assert (saved / "adapter" / "adapter.gguf").exists()  # for llama.cpp engines
    cfg = json.loads((saved / "cfg.json").read_text())
    assert cfg["base_model"] == "offline:gemma-3-270m" and cfg["output_format"] == "inline"
    # the original adapter folder is gone: the pipeline must only use its own copy
    moved = untrained_adapter.with_name("moved-away")
    untrained_adapter.rename(moved)
    try:
        nlp2 = spacy.load(tmp_path / "pipeline")
        ner = nlp2.get_pipe("raredis_llm_ner")
        assert ner._engine is None  # loading the pipeline does not load the LLM yet
        assert ner.adapter == str(saved / "adapter")
        assert ner.prompt.instruction == nlp.get_pipe("raredis_llm_ner").prompt.instruction
        doc = nlp2("Fabry disease causes pain in the hands. Patients may have fever.")
    finally:
        moved.rename(untrained_adapter)
    usage = doc.user_data[schema.LLM_USAGE]
    assert usage["requests"] == 2 and usage["completion_tokens"] > 0
    assert set(doc.user_data[schema.PARSE_STATS]) >= {"given", "aligned", "dropped"}
    sents = ner.sentences(doc)
    for ent in doc.ents:  # whatever the untrained model says, spans stay inside a sentence
        assert any(s <= ent.start_char and ent.end_char <= e for s, e in sents)


def test_long_sentences_are_cut_into_windows_not_truncated():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("raredis_llm_ner", config={"window_chars": 40})
    text = "word " * 30 + "end."
    doc = nlp.make_doc(text)
    spans = ner.sentences(doc)
    assert len(spans) > 3 and all(e - s <= 40 for s, e in spans)
    covered = "".join(text[s:e] for s, e in spans).replace(" ", "")
    assert covered == text.replace(" ", "")  # every character is in a window: nothing is cut off
    ner.set_annotations([doc], [["none"] * len(spans)])
    assert doc.user_data[schema.LLM_USAGE]["requests"] == len(spans)


@pytest.mark.slow
def test_loading_the_pipeline_imports_no_llm_or_training_code(untrained_adapter, tmp_path):
    """spacy.load of a saved raredis_llm_ner pipeline, then tagging, imports neither spacy-llm
    nor the OpenAI client nor peft nor our training code beyond what spaCy itself imports
    (spacy.blank already imports every installed package's spacy_factories entry points,
    spacy-llm's among them)."""
    import subprocess
    import sys

    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_llm_ner", config={"adapter": str(untrained_adapter), "max_new_tokens_cap": 4})
    nlp.to_disk(tmp_path / "pipeline")
    code = (
        "import sys, spacy\n"
        "spacy.blank('en')\n"
        "before = set(sys.modules)\n"
        f"nlp = spacy.load({str(tmp_path / 'pipeline')!r})\n"
        "doc = nlp('Fabry disease causes pain.')\n"
        "new = set(sys.modules) - before\n"
        "bad = sorted(m for m in new if m.split('.')[0] in ('spacy_llm', 'openai', 'peft', 'llama_cpp')\n"
        "             or m.startswith(('raredis_llm.llm', 'raredis_llm.finetune')))\n"
        "print('BAD', bad, 'NEW', len(new), 'TORCH', 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "BAD []" in out.stdout and "TORCH True" in out.stdout, out.stdout + out.stderr
