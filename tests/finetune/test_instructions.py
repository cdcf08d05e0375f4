import json

import pytest
from spacy.tokens import DocBin

from raredis_llm.ner.finetuned import FinetunePrompt
from raredis_llm.finetune.instructions import (ALPACA_KEYS, build_instruction_files, doc_spans,
                                               docs_to_records, read_jsonl)
from raredis_llm.labels import LABELS


@pytest.mark.parametrize("fmt", ["inline", "json", "bio"])
def test_one_record_per_sentence_renders_and_parses_back(sentence_docs, fmt):
    prompt = FinetunePrompt(output_format=fmt)
    records = docs_to_records(sentence_docs, prompt)
    assert len(records) == len(sentence_docs)
    for doc, record in zip(sentence_docs, records):
        assert set(ALPACA_KEYS) <= set(record)
        assert record["instruction"] == prompt.instruction
        assert record["input"] == doc.text
        spans, stats = prompt.parse(record["input"], record["output"])
        assert spans == doc_spans(doc)
        assert stats["aligned"] == len(doc.ents) and sum(stats["dropped"].values()) == 0
    # the sentence without entities is kept, with the format's empty answer
    empty = records[1]
    assert prompt.parse(empty["input"], empty["output"])[0] == []
    assert records[0]["id"] == "Fabry-Disease:0"


def test_inline_output_is_the_tagged_sentence(sentence_docs):
    record = docs_to_records(sentence_docs, FinetunePrompt("inline"))[0]
    assert record["output"] == "<RAREDISEASE>Fabry disease</RAREDISEASE> causes <SYMPTOM>pain</SYMPTOM> in the hands."
    assert all(label in record["instruction"] for label in LABELS)


def test_4type_view_merges_skin_rare_disease(sentence_docs):
    prompt = FinetunePrompt("inline", labels=["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"])
    record = docs_to_records(sentence_docs, prompt, view="4type")[3]
    assert record["output"].startswith("<RAREDISEASE>Epidermolysis bullosa</RAREDISEASE>")
    assert "SKINRAREDISEASE" not in record["instruction"]


def test_prompt_ends_where_the_response_starts():
    alpaca = FinetunePrompt("inline", prompt_style="alpaca")
    text = alpaca.prompt("Some text.")
    assert text.endswith("### Response:\n")
    assert "### Input:\nSome text.\n" in text and alpaca.instruction in text
    short = FinetunePrompt("lines")
    text = short.prompt("Some text.")
    assert text.endswith("Answer:\n") and "Text: Some text.\n" in text and short.instruction in text
    assert len(text) < len(alpaca.prompt("Some text.")) / 3  # a few words, not the format's rules


def test_jsonl_files_from_docbins(sentence_docs, tmp_path):
    DocBin(docs=sentence_docs, store_user_data=True).to_disk(tmp_path / "train.spacy")
    DocBin(docs=sentence_docs[:2], store_user_data=True).to_disk(tmp_path / "dev.spacy")
    counts = build_instruction_files({"train": tmp_path / "train.spacy", "validation": tmp_path / "dev.spacy"},
                                     tmp_path / "instructions", FinetunePrompt("inline"))
    assert counts["train"]["records"] == 4 and counts["train"]["without_entities"] == 1
    assert counts["validation"]["records"] == 2
    records = read_jsonl(tmp_path / "instructions" / "train.jsonl")
    assert [r["input"] for r in records] == [d.text for d in sentence_docs]


def test_bad_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"instruction": "i", "input": "x", "output": "y"}) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        read_jsonl(path)
    path.write_text(json.dumps({"instruction": "i", "input": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: missing.*output"):
        read_jsonl(path)
