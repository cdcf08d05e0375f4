"""Output records (offsets into the input text, extensions, KB ids), the append-only
logs and their repair, and the DocBin shards."""

import json

import pytest
import spacy
from spacy.tokens import Span

from raredis_llm.annotate.writers import DocBinShards, JsonlLog, attribute_extensions, doc_record, dumps
from raredis_llm.corpus import schema


@pytest.fixture
def doc():
    nlp = spacy.blank("en")
    if not Span.has_extension("raredis_test_neg"):
        Span.set_extension("raredis_test_neg", default=False)
        Span.set_extension("raredis_test_len", getter=lambda span: len(span))
    doc = nlp("no Fabry disease and pain")
    doc.set_ents([Span(doc, 1, 3, "RAREDISEASE", kb_id="ORPHA:324"), Span(doc, 4, 5, "SYMPTOM")])
    doc.ents[0]._.raredis_test_neg = True
    doc.ents[1]._.raredis_test_neg = False
    return doc


def test_record_with_set_and_asked_extensions(doc):
    # value extensions other tests registered in this process (negspacy's negex) are written
    # with their defaults, as in a user's pipeline
    others = {name: Span.get_extension(name)[0] for name in attribute_extensions() if name != "raredis_test_neg"}
    rec = doc_record(doc, "n1")
    assert rec == {"id": "n1", "ents": [
        {"start": 3, "end": 16, "label": "RAREDISEASE", "text": "Fabry disease", "kb_id": "ORPHA:324",
         "_": {"raredis_test_neg": True, **others}},
        {"start": 21, "end": 25, "label": "SYMPTOM", "text": "pain", "_": {"raredis_test_neg": False, **others}}]}
    asked = doc_record(doc, "n1", span_extensions=["raredis_test_len", "not_registered"])
    assert asked["ents"][0]["_"] == {"raredis_test_len": 2, "raredis_test_neg": True, **others}


def test_record_text_comes_from_the_input_text(doc):
    original = "no Fabry\x07disease and pain"
    assert doc_record(doc, "n1", original)["ents"][0]["text"] == "Fabry\x07disease"


def test_torn_last_line_is_cut_other_damage_stops(tmp_path):
    log = JsonlLog(tmp_path / "out.jsonl").open()
    log.write([{"id": "a", "ents": []}, {"id": "b", "ents": []}])
    log.close()
    good = (tmp_path / "out.jsonl").read_bytes()
    torn = dumps({"id": "c", "ents": [{"text": "é" * 50}]})[:-20]
    (tmp_path / "out.jsonl").write_bytes(good + torn)
    ids, cut = JsonlLog(tmp_path / "out.jsonl").recover()
    assert ids == ["a", "b"] and cut == len(torn)
    assert (tmp_path / "out.jsonl").read_bytes() == good
    (tmp_path / "out.jsonl").write_bytes(b'{"id": "a"}\n{"id": \n{"id": "c"}\n')
    with pytest.raises(ValueError, match="line 2"):
        JsonlLog(tmp_path / "out.jsonl").recover()


def test_shards_written_whole_and_read_back(doc, tmp_path):
    shards = DocBinShards(tmp_path / "db").open()
    (tmp_path / "db" / "000009.tmp").write_bytes(b"half")
    shards.open()  # a restart clears temp files
    assert not list((tmp_path / "db").glob("*.tmp"))
    doc.user_data[("._.", "trf_data", None, None)] = object()  # not plain data: left out
    shards.add(doc, "n1", "no Fabry\x07disease and pain")
    shards.commit()
    shards.commit()  # nothing new: no empty shard
    shards.add(doc, "n2", doc.text)
    shards.commit()
    assert [p.name for p in shards.shards()] == ["000000.spacy", "000001.spacy"]
    got = list(shards.docs())
    assert [i for i, _ in got] == ["n1", "n2"]
    first = got[0][1]
    assert first.user_data[schema.ORIGINAL_TEXT] == "no Fabry\x07disease and pain"
    assert schema.ORIGINAL_TEXT not in got[1][1].user_data
    assert json.dumps(doc_record(first, "n1")) == json.dumps(doc_record(doc, "n1"))
