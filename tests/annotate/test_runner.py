"""annotate(): every input document ends up in the output or the errors file, in input
order; a restart skips what is written and produces the same files as an uninterrupted
run, also after a torn last line or a kill between the DocBin shard and the JSON lines."""

import json

import pytest
import spacy
from tests.annotate import faulty
from tests.annotate.jsonl_files import read_jsonl, write_jsonl

from raredis_llm.annotate.engines import SpacyEngine
from raredis_llm.annotate.runner import annotate
from raredis_llm.annotate.writers import DocBinShards
from raredis_llm.guard import add_guards


@pytest.fixture(scope="module")
def nlp(tiny_cnn):
    nlp = spacy.load(tiny_cnn)
    add_guards(nlp)
    return nlp


@pytest.fixture
def corpus(tmp_path, sentences):
    rows = [{"id": i, "text": t} for i, t in sentences]
    rows[3]["text"] = "BOOM " + rows[3]["text"]
    rows.insert(7, "{broken")
    rows.insert(9, {"id": rows[1]["id"], "text": "a duplicate id"})
    rows.insert(11, {"id": "ctrl", "text": "Gaucher\x07 disease and \x00Fabry disease."})
    return write_jsonl(tmp_path / "in.jsonl", rows), len(rows)


def go(nlp, path, out, **kwargs):
    engine = SpacyEngine(nlp, batch_size=8, window=20)
    try:
        return annotate(engine, path, out, progress=False, commit_every=kwargs.pop("commit_every", 5), **kwargs)
    finally:
        engine.close()


def go_failing(nlp, path, out, **kwargs):
    """``go`` with a component that fails on texts with BOOM."""
    nlp.add_pipe(faulty.FAIL_ON, after="ner")
    try:
        return go(nlp, path, out, **kwargs)
    finally:
        nlp.remove_pipe(faulty.FAIL_ON)


def test_everything_accounted_for_in_order(nlp, corpus, tmp_path):
    path, n = corpus
    summary = go_failing(nlp, path, tmp_path / "out.jsonl")
    lines = read_jsonl(tmp_path / "out.jsonl")
    errors = read_jsonl(tmp_path / "out.errors.jsonl")
    assert summary["input"] == n and summary["done"] == len(lines) and summary["failed"] == len(errors) == 3
    assert {e["id"] for e in errors} == {"train-0003", "in.jsonl:8", "train-0001"}
    assert "duplicate" in [e for e in errors if e["id"] == "train-0001"][0]["error"]
    inputs = [json.loads(l) for l in path.read_text().splitlines() if l.startswith("{\"")]
    expected, seen = [], set()
    for row in inputs:
        if row["id"] not in seen and "BOOM" not in row["text"]:
            expected.append(row["id"])
        seen.add(row["id"])
    assert [l["id"] for l in lines] == expected
    texts = {r["id"]: r["text"] for r in inputs if r["text"] != "a duplicate id"}
    for line in lines:
        for ent in line["ents"]:
            assert texts[line["id"]][ent["start"]:ent["end"]] == ent["text"]
    assert json.loads((tmp_path / "out.summary.json").read_text())["done"] == summary["done"]


def test_control_characters_act_as_spaces(nlp, tmp_path):
    texts = {"a": "The patient has Gaucher\x07 disease and\x0bFabry disease.",
             "b": "The patient has Gaucher  disease and Fabry disease."}
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": k, "text": v} for k, v in texts.items()])
    go(nlp, path, tmp_path / "out.jsonl")
    a, b = read_jsonl(tmp_path / "out.jsonl")
    assert [(e["start"], e["end"], e["label"]) for e in a["ents"]] == [(e["start"], e["end"], e["label"]) for e in b["ents"]]
    for e in a["ents"]:
        assert e["text"] == texts["a"][e["start"]:e["end"]]


def test_restart_skips_and_repairs(nlp, corpus, tmp_path):
    path, n = corpus
    whole = tmp_path / "whole"
    whole.mkdir()
    go(nlp, path, whole / "out.jsonl", docbin=whole / "db")
    part = tmp_path / "part"
    part.mkdir()
    go(nlp, path, part / "out.jsonl", docbin=part / "db")
    out = part / "out.jsonl"
    # undo the last 12 documents, the way a kill leaves things: the last shard is there
    # but its lines are not all written, and the last line is torn
    lines = out.read_bytes().splitlines(keepends=True)
    keep = len(lines) - 12
    out.write_bytes(b"".join(lines[:keep]) + lines[keep][:17])
    DocBinShards(part / "db").shards()[-1].unlink()  # the last shard was not written either
    remaining = {d for d, _ in DocBinShards(part / "db").docs()}
    summary = go(nlp, path, out, docbin=part / "db")
    assert out.read_bytes() == (whole / "out.jsonl").read_bytes()
    assert (part / "out.errors.jsonl").read_bytes() == (whole / "out.errors.jsonl").read_bytes()
    assert summary["repaired"]["torn_output_line_bytes"] == 17
    from_docbin = len(remaining - {l["id"] for l in read_jsonl(whole / "out.jsonl")[:keep]})
    assert summary["repaired"].get("lines_from_docbin", 0) == from_docbin
    assert summary["skipped_done"] == keep + from_docbin
    assert summary["done"] == len(read_jsonl(whole / "out.jsonl")) - keep - from_docbin
    assert [i for i, _ in DocBinShards(part / "db").docs()] == [i for i, _ in DocBinShards(whole / "db").docs()]
    # a third run has nothing to do
    again = go(nlp, path, out, docbin=part / "db")
    assert again["done"] == again["failed"] == 0 and again["skipped_done"] + again["skipped_failed"] == n
    assert out.read_bytes() == (whole / "out.jsonl").read_bytes()


def test_retry_failed(nlp, corpus, tmp_path):
    path, _ = corpus
    first = go_failing(nlp, path, tmp_path / "out.jsonl")
    assert first["failed"] == 3
    again = go(nlp, path, tmp_path / "out.jsonl", retry_failed=True)
    assert again["done"] == 1 and again["failed"] == 2  # BOOM passes now; the broken line and duplicate do not
    assert (tmp_path / "out.errors.jsonl.prev").exists()
    ids = [l["id"] for l in read_jsonl(tmp_path / "out.jsonl")]
    assert ids[-1] == "train-0003" and len(ids) == len(set(ids))
