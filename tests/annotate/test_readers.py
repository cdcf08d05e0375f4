"""Input readers: .txt folders, JSONL, DocBin; a bad document is an error record, never a
stop; ids and texts exactly as in the input."""

import pytest
import spacy
from spacy.tokens import DocBin
from tests.annotate.jsonl_files import write_jsonl

from raredis_llm.annotate.readers import count_records, detect_format, read_records
from raredis_llm.corpus import schema


def test_txt_folder_sorted_nested_and_exact(tmp_path):
    root = tmp_path / "notes"
    (root / "b").mkdir(parents=True)
    (root / "b" / "2.txt").write_bytes("line one\r\nline two\r\n".encode())
    (root / "a.txt").write_text("Fabry disease", encoding="utf8")
    (root / "bad.txt").write_bytes(b"\xff\xfe caf\xe9")
    (root / "skip.md").write_text("not a note")
    recs = list(read_records(root))
    assert [r.id for r in recs] == ["a", "b/2", "bad"]
    assert recs[1].text == "line one\r\nline two\r\n"  # offsets refer to the file as it is
    assert recs[2].text is None and "bad.txt" in recs[2].error and "UTF-8" in recs[2].error
    assert count_records(root) == 3 and detect_format(root) == "txt"


def test_jsonl_bad_lines_become_error_records(tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "a", "text": "x"}, "", "not json", {"id": 7, "text": "seven"}, [1, 2], {"text": "no id"},
        {"id": "n", "text": None}, {"id": True, "text": "bool id"}, {"doc": "d", "body": "other fields"}])
    recs = list(read_records(path))
    assert [(r.id, r.text) for r in recs if r.error is None] == [("a", "x"), ("7", "seven")]
    errors = {r.id: r.error for r in recs if r.error}
    assert set(errors) == {"in.jsonl:3", "in.jsonl:5", "in.jsonl:6", "n", "in.jsonl:8", "in.jsonl:9"}
    assert "line 3" in errors["in.jsonl:3"] and "line 7" in errors["n"]
    assert count_records(path) == 8
    other = list(read_records(path, id_field="doc", text_field="body"))
    assert [(r.id, r.text) for r in other if r.error is None] == [("d", "other fields")]


def test_docbin_ids(tiny_corpus, tmp_path):
    recs = list(read_records(tiny_corpus / "validation.spacy"))
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(tiny_corpus / "validation.spacy").get_docs(nlp.vocab))
    assert [r.text for r in recs] == [d.text for d in docs]
    assert recs[0].id == f"{docs[0].user_data[schema.DOC_ID]}#0"
    assert len({r.id for r in recs}) == len(recs)
    # a folder of shards, ours: the id and the original text travel in user_data
    folder = tmp_path / "shards"
    folder.mkdir()
    doc = nlp("a b")
    doc.user_data[schema.ANNOTATE_ID] = "note-1"
    doc.user_data[schema.ORIGINAL_TEXT] = "a\x07b"
    DocBin(docs=[doc], store_user_data=True).to_disk(folder / "000000.spacy")
    (folder / "000001.spacy").write_bytes(b"garbage")
    recs = list(read_records(folder))
    assert (recs[0].id, recs[0].text) == ("note-1", "a\x07b")
    assert recs[1].text is None and "000001.spacy" in recs[1].error
    assert detect_format(folder) == "docbin"


def test_unknown_inputs(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_records(tmp_path / "missing.jsonl")
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(ValueError, match="--format"):
        detect_format(tmp_path / "x.csv")
