import json
from pathlib import Path

import pytest
import spacy

from tests.scoring.gold_copier import copier_pipeline, gold_table
from tests.scoring.script_runner import run_script
from raredis_llm.corpus import schema
from raredis_llm.scoring.evaluate import evaluate, load_gold_docs, sample_docs, score_docs


def assert_perfect(metrics):
    for view, res in metrics["views"].items():
        sp, s = res["spacy"], res["seqeval"]
        assert (sp["ents_p"], sp["ents_r"], sp["ents_f"]) == (1.0, 1.0, 1.0), view
        assert all(v == {"p": 1.0, "r": 1.0, "f": 1.0} for v in sp["ents_per_type"].values()), view
        for key in ("micro", "macro"):
            assert (s[key]["p"], s[key]["r"], s[key]["f"]) == (1.0, 1.0, 1.0), (view, key)
        assert all(v["f"] == 1.0 for v in s["per_type"].values()), view
        counts = res["errors"]["counts"]
        assert all(counts[c]["total"] == 0 for c in counts if c != "exact"), view
        assert counts["exact"]["total"] == metrics["alignment"]["n_gold"]


def test_gold_vs_gold_pipeline_scores_one_everywhere(gold_docs, tmp_path):
    nlp = copier_pipeline(gold_table(gold_docs))
    out = tmp_path / "metrics" / "gold.json"
    metrics = evaluate(nlp, gold_docs, system="gold", output=out)
    assert_perfect(metrics)
    assert set(metrics["views"]["5type"]["seqeval"]["per_type"]) == {
        "RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"}
    assert set(metrics["views"]["4type"]["seqeval"]["per_type"]) == {"RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"}
    assert metrics["alignment"]["misaligned"] == 0
    assert metrics["pipeline"] == ["raredis_test_gold_copier"]
    assert metrics["n_docs"] == len(gold_docs)
    sp = metrics["speed"]
    assert sp["words"] == sum(1 for d in gold_docs for t in d if not t.is_space)
    assert sp["words_per_s"] > 0 and sp["docs_per_s"] > 0 and sp["peak_rss_mb"] > 0
    assert metrics["llm_usage"] is None and metrics["parse"] is None
    saved = json.loads(out.read_text())
    assert saved["system"] == "gold" and saved["errors_file"] == "gold.errors.jsonl"
    assert (out.parent / "gold.errors.jsonl").read_text() == ""


def test_errors_file_and_usage_sums(gold_docs, tmp_path):
    table = gold_table(gold_docs)
    text = gold_docs[1].text
    table[text] = [[30, 41, "SYMPTOM"]]  # "severe pain" only: boundary + a missed entity
    usage = {"prompt_tokens": 100, "completion_tokens": 10, "requests": 1, "cache_hits": 0}
    parse = {"given": 3, "aligned": 2, "dropped": {"not_in_text": 1}}
    nlp = copier_pipeline(table, usage=usage, parse=parse)
    out = tmp_path / "sys.json"
    metrics = evaluate(nlp, gold_docs, system="sys", output=out, price_prompt_1k=0.5, price_completion_1k=2.0)
    n = len(gold_docs)
    u = metrics["llm_usage"]
    assert (u["prompt_tokens"], u["completion_tokens"], u["requests"], u["cache_hits"]) == (100 * n, 10 * n, n, 0)
    assert u["cost"] == pytest.approx(n * (0.1 * 0.5 + 0.01 * 2.0))
    assert metrics["parse"] == {"given": 3 * n, "aligned": 2 * n, "dropped": {"not_in_text": n},
                                "dropped_total": n, "docs_with_stats": n}
    counts = metrics["views"]["5type"]["errors"]["counts"]
    assert counts["boundary"]["total"] == 1 and counts["false_negative"]["total"] == 1
    rows = [json.loads(line) for line in (tmp_path / "sys.errors.jsonl").read_text().splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert row["doc_index"] == 1 and row["doc_id"] == "doc0" and row["text"] == text
    assert row["pred"] == [[30, 41, "SYMPTOM"]]
    assert row["errors"] == {"boundary": 1, "false_negative": 1}
    sample = metrics["views"]["5type"]["errors"]["samples"]["false_negative"][0]
    assert sample["context"].endswith("called [acroparesthesia]/G:SYMPTOM.")


def test_tokens_input_mode_passes_doc_ids(gold_docs):
    seen = []

    @spacy.Language.component("raredis_test_record_ids")
    def record(doc):
        seen.append(doc.user_data.get(schema.DOC_ID))
        return doc

    nlp = copier_pipeline(gold_table(gold_docs))
    nlp.add_pipe("raredis_test_record_ids")
    assert_perfect(evaluate(nlp, gold_docs, system="x", input_mode="tokens"))
    assert seen == [d.user_data[schema.DOC_ID] for d in gold_docs]


def test_text_mismatch_is_a_clear_error(gold_docs):
    nlp = spacy.blank("en")
    preds = [nlp(d.text) for d in gold_docs]
    preds[2] = nlp("something else")
    with pytest.raises(ValueError, match=r"doc #2 \(doc1, sentence 0\)"):
        score_docs(preds, gold_docs)


def test_sample_docs_is_seeded_and_keeps_order(gold_docs):
    idx, a = sample_docs(gold_docs, 3, seed=1)
    assert (idx, a) == sample_docs(gold_docs, 3, seed=1) and len(a) == 3
    assert idx == sorted(idx) and a == [gold_docs[i] for i in idx]
    assert sample_docs(gold_docs, None) == (list(range(len(gold_docs))), gold_docs)


def test_load_gold_docs_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.spacy"):
        load_gold_docs(tmp_path / "nope.spacy")
    bad = tmp_path / "bad.spacy"
    bad.write_text("not a docbin")
    with pytest.raises(ValueError, match="bad.spacy"):
        load_gold_docs(bad)


def test_cli_scores_a_saved_pipeline(gold_docs, gold_docbin, tmp_path):
    model = tmp_path / "copier_model"
    copier_pipeline(gold_table(gold_docs)).to_disk(model)
    out = tmp_path / "metrics" / "copier.json"
    result = run_script("evaluate.py", [
        str(model), str(gold_docbin), "--system", "copier", "--output", str(out), "--n-docs", "4",
        "--seed", "3", "--batch-size", "2", "--code", str(Path(__file__).with_name("gold_copier.py")),
        "--no-progress"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert_perfect(metrics)
    assert metrics["n_docs"] == 4 and metrics["n_docs_total"] == len(gold_docs) and metrics["seed"] == 3
    assert metrics["model"] == str(model) and metrics["speed"]["load_s"] > 0
    assert (out.parent / "copier.errors.jsonl").exists()


def test_metrics_hold_three_metric_views_and_the_per_sentence_record(gold_docs, tmp_path):
    from raredis_llm.scoring.units import METRICS, SCORE_KEYS, Units

    table = gold_table(gold_docs)
    table[gold_docs[1].text] = [[30, 41, "SYMPTOM"]]  # boundary error + a miss
    indices = [3, 5, 8, 13, 21, 34]
    out = tmp_path / "noisy.json"
    metrics = evaluate(copier_pipeline(table), gold_docs, system="noisy", indices=indices, n_docs_total=40,
                       seed=2, output=out)
    assert metrics["sample"] == {"sampler": "raredis_llm.util.seeded_sample", "seed": 2, "n": 6, "n_total": 40,
                                 "indices": indices}
    saved = json.loads(out.read_text())
    assert saved["units"]["keys"] == ["doc0:0", "doc0:1", "doc1:0", "doc1:1", "doc2:0", "doc2:1"]
    units = Units.from_metrics(saved)
    for view in ("5type", "4type"):
        res = saved["views"][view]
        # spans from a spaCy pipeline: the two seqeval modes agree
        assert res["seqeval_default"] == res["seqeval"]
        assert res["doc_level"]["documents"] == 3
        for metric in METRICS:
            keys, types, counts = units.unit_counts(metric, view)
            stored = res[SCORE_KEYS[metric]]
            assert counts.sum(axis=(0, 1))[0] + counts.sum(axis=(0, 1))[2] == stored["micro"]["support"]
            assert len(keys) == (3 if metric == "doc" else 6)
    strict = saved["views"]["5type"]["seqeval"]["per_type"]["SYMPTOM"]
    assert strict["r"] == pytest.approx(1 / 3)  # "severe pain" is not the gold span
    # one line per sentence in the file
    assert '"rows": [\n' in out.read_text() and "[0, 0, 0, 0, 0, 0, 0, 0, 0" in out.read_text()


def test_sentences_without_ids_are_named_by_corpus_index(gold_docs):
    for d in gold_docs:
        d.user_data.clear()
    nlp = copier_pipeline(gold_table(gold_docs))
    metrics = evaluate(nlp, gold_docs, system="x", indices=[10, 11, 12, 13, 14, 15])
    assert metrics["units"]["keys"] == [f"#{i}" for i in range(10, 16)]
    assert metrics["views"]["5type"]["doc_level"]["documents"] == 6


def test_metrics_json_is_compact_and_exact():
    from raredis_llm.scoring.evaluate import dumps_metrics

    data = {"rows": [[1, 0, 2], [0, 0, 0]], "mentions": [{"SIGN": ["a [b] c", "d]"]}, {}], "empty": [],
            "nested": {"x": [1.5, None, True, "s,t"]}}
    text = dumps_metrics(data)
    assert json.loads(text) == data
    assert '"rows": [\n    [1, 0, 2],\n    [0, 0, 0]\n  ]' in text
    assert '"x": [1.5, null, true, "s,t"]' in text
