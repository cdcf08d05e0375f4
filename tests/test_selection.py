"""Choosing en_raredis_llm's pipeline on the validation split (real tiny CNN and transformer)."""

import json

import pytest
import spacy

from raredis_llm.scoring.evaluate import evaluate, load_gold_docs
from raredis_llm.selection import parse_candidate, rank_key, read_selection, select_best


def _test_metrics(pipeline, corpus, path, system):
    nlp = spacy.load(pipeline)
    evaluate(nlp, load_gold_docs(corpus / "test.spacy", nlp), system=system, output=path)


def test_the_best_validation_score_is_chosen_and_recorded(tiny_corpus, tiny_cnn, tiny_trf, tmp_path):
    metrics_dir = tmp_path / "metrics"
    for name, pipeline in (("cnn", tiny_cnn), ("trf", tiny_trf)):
        _test_metrics(pipeline, tiny_corpus, metrics_dir / f"{name}.json", name)
    out = tmp_path / "selection.json"
    record = select_best([("cnn", tiny_cnn), ("trf", tiny_trf)], tiny_corpus / "validation.spacy", metrics_dir,
                         out, n_docs=5, seed=0, log=lambda *_: None)
    assert read_selection(out) == json.loads(out.read_text()) and record["chosen"] == read_selection(out)["chosen"]
    rows = {row["system"]: row for row in record["candidates"]}
    assert set(rows) == {"cnn", "trf"} and all(row["n_docs"] == 5 for row in rows.values())
    best = max(rows.values(), key=rank_key)
    assert record["chosen"] == best["system"]
    assert record["pipeline"] == str(tiny_cnn if best["system"] == "cnn" else tiny_trf)
    assert record["test_metrics"] == str(metrics_dir / f"{best['system']}.json")
    assert record["split"].endswith("validation.spacy")
    # the scores are the harness's own on the validation sample
    nlp = spacy.load(tiny_cnn)
    gold = load_gold_docs(tiny_corpus / "validation.spacy", nlp)
    from raredis_llm.scoring.evaluate import sample_docs

    indices, docs = sample_docs(gold, 5, 0)
    direct = evaluate(nlp, docs, system="cnn", indices=indices)
    assert rows["cnn"]["f_5type"] == round(direct["views"]["5type"]["seqeval"]["micro"]["f"], 4)


def test_ties_go_to_the_4type_view_then_speed():
    a = {"f_5type": 0.5, "f_4type": 0.6, "words_per_s": 10}
    b = {"f_5type": 0.5, "f_4type": 0.55, "words_per_s": 1000}
    c = {"f_5type": 0.5, "f_4type": 0.6, "words_per_s": 20}
    assert max([a, b, c], key=rank_key) is c


def test_missing_pieces_are_named(tiny_corpus, tiny_cnn, tmp_path):
    with pytest.raises(FileNotFoundError, match="no test metrics .*cnn.json"):
        select_best([("cnn", tiny_cnn)], tiny_corpus / "validation.spacy", tmp_path, tmp_path / "s.json")
    with pytest.raises(FileNotFoundError, match="Candidate gone: no pipeline"):
        select_best([("gone", tmp_path / "nothing")], tiny_corpus / "validation.spacy", tmp_path,
                    tmp_path / "s.json")
    with pytest.raises(ValueError, match="NAME=PIPELINE_PATH"):
        parse_candidate("cnn")
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(ValueError, match="not a pipeline selection"):
        read_selection(tmp_path / "other.json")
    assert not (tmp_path / "s.json").exists()
