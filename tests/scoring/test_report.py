import json
import re

import pytest

from tests.scoring.gold_copier import copier_pipeline, gold_table
from tests.scoring.script_runner import run_script
from raredis_llm.scoring.evaluate import evaluate
from raredis_llm.scoring.published import load_published, published_markdown
from raredis_llm.scoring.report import RESULTS_END, RESULTS_START, build_report, splice_readme

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def metrics_dir(tmp_path, gold_docs):
    out = tmp_path / "metrics"
    evaluate(copier_pipeline(gold_table(gold_docs)), gold_docs, system="gold-copier", output=out / "gold-copier.json")
    table = gold_table(gold_docs)
    table[gold_docs[0].text] = [[0, 5, "DISEASE"]]  # boundary + type error
    table[gold_docs[2].text] = []  # a miss
    table[gold_docs[4].text] = [[4, 12, "SIGN"]]  # a false positive
    evaluate(copier_pipeline(table, usage={"prompt_tokens": 50, "completion_tokens": 5, "requests": 1,
                                           "cache_hits": 1}),
             gold_docs, system="noisy", output=out / "noisy.json", price_prompt_1k=1.0)
    (out / "timings.json").write_text(json.dumps({"convert": 12.5, "evaluate": 100.0}))
    return out


def test_report_tables_charts_and_html(metrics_dir):
    out = build_report(metrics_dir, output=metrics_dir / "REPORT.md", n_boot=200,
                       extra_pairs=[("gold-copier", "noisy")])
    assert out["systems"] == ["gold-copier", "noisy"]
    report = (metrics_dir / "REPORT.md").read_text()
    for name in ("f1_per_type_5type.png", "f1_per_type_4type.png", "f1_overview.png"):
        assert (metrics_dir / name).read_bytes()[:8] == PNG
        assert f"({name})" in report
    # every F1 with its interval; 6 sentences < 100: the rows are marked
    assert "| gold-copier † | 100.0 (100.0–100.0) | 100.0 (100.0–100.0) |" in report
    assert "| gold-copier † | 100.0/100.0 |" in report
    assert "noisy" in report and "SKINRAREDISEASE" in report
    for title in ("### strict span", "### seqeval default", "### document level",
                  "## Per type, document level, 4type: F1 (95% CI)", "## Paired differences"):
        assert title in report, title
    noisy_micro = re.search(r"\| noisy † \| 6 \| ([\d.]+) \(([\d.]+)–([\d.]+)\)", report)
    f, lo, hi = map(float, noisy_micro.groups())
    assert lo <= f <= hi and lo < hi < 100
    assert "| asked for | gold-copier | noisy | 6 | 100.0 |" in report
    assert "Total run time: 1.9 min (112 s)" in report and "| evaluate | 100.0 |" in report
    assert "## Published numbers (not our measurements)" in report
    assert "### Lu et al. 2024, Table 3" in report and "Metric view: **seqeval default**, 5type" in report
    assert "| noisy | 50" not in report  # usage is per system total, 6 docs
    assert "| noisy | 6 | 300 | 30 | 6 |" in report
    html = (metrics_dir / "errors.html").read_text()
    assert "noisy" in html and "class=\"entities\"" in html
    assert "gold-copier</a> (0 sentences with errors)" in html
    assert html.count("<tr><td>") == 3  # three sentences with errors, gold and pred side by side
    results = (metrics_dir / "RESULTS.md").read_text()
    assert "| gold-copier † | 6 | 100.0 (100.0–100.0) | 100.0 (100.0–100.0) | 100.0 (100.0–100.0) |" in results
    assert "Total run time of the workflow: 1.9 min." in results


def test_readme_splice(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n\nbefore\n{RESULTS_START}\nold table\n{RESULTS_END}\nafter\n")
    assert splice_readme(readme, "| new |\n")
    assert readme.read_text() == f"# T\n\nbefore\n{RESULTS_START}\n| new |\n{RESULTS_END}\nafter\n"
    assert splice_readme(readme, "| newer |")  # idempotent, markers kept
    assert "| new |" not in readme.read_text() and "| newer |" in readme.read_text()
    plain = tmp_path / "PLAIN.md"
    plain.write_text("no markers\n")
    assert not splice_readme(plain, "x")
    assert plain.read_text() == "no markers\n"


def test_report_cli_with_readme(metrics_dir, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{RESULTS_START}\n{RESULTS_END}\n")
    result = run_script("report.py", [str(metrics_dir), "--output", str(metrics_dir / "REPORT.md"),
                                      "--readme", str(readme), "--bootstrap-n", "100", "--pair", "noisy:gold-copier"])
    assert result.exit_code == 0, result.output
    assert "| noisy † |" in readme.read_text()
    assert "| asked for | noisy | gold-copier | 6 |" in (metrics_dir / "REPORT.md").read_text()
    bad = run_script("report.py", [str(metrics_dir), "--pair", "noisy:nobody"])
    assert bad.exit_code != 0 and "nobody" in str(bad.exception)
    assert (metrics_dir / "errors.html").exists() and (metrics_dir / "RESULTS.md").exists()


def test_published_numbers_file_is_valid_and_separate(tmp_path):
    data = load_published()
    entries = data["entries"]
    assert {e["source"] for e in entries} >= {"Lu et al. 2024", "Xi et al. 2025", "Segura-Bedmar et al. 2022, BMC Bioinformatics 23:263"}
    lu_gpt4_fewshot = next(e for e in entries if e["source"] == "Lu et al. 2024" and e["system"].startswith("GPT-4 ")
                           and e["strategy"].startswith("few-shot"))
    assert (lu_gpt4_fewshot["metric"], lu_gpt4_fewshot["view"]) == ("default", "5type")
    assert lu_gpt4_fewshot["values"]["macro"] == 0.3214 and lu_gpt4_fewshot["values"]["SKINRAREDISEASE"] == 0.3383
    shyr = next(e for e in entries if e["system"].startswith("BioClinicalBERT"))
    assert (shyr["metric"], shyr["view"]) == ("doc", "4type")
    assert shyr["values"] == {"RAREDISEASE": 0.704, "DISEASE": 0.491, "SIGN": 0.538, "SYMPTOM": 0.648}
    segura = next(e for e in entries if e["source"].startswith("Segura-Bedmar"))
    assert segura["values"]["micro"] == 0.5805 and segura["metric"] == "strict"
    md = published_markdown(data)
    assert md.startswith("## Published numbers (not our measurements)")
    assert ("| GPT-4 (gpt-4-1106-preview) | few-shot (5 fixed random examples) | 5type | 59.6 (60.1/59.0) | "
            "33.8 (29.5/39.6) | 25.7 (22.5/29.8) |") in md
    assert "Metric view: **document level**, 4type" in md and "Human ceiling" in md
    bad = tmp_path / "p.json"
    entry = {"source": "x", "split": "test", "metric": "strict", "view": "4type", "system": "s", "values": {"micro": 87.0}}
    bad.write_text(json.dumps({"entries": [entry]}))
    with pytest.raises(ValueError, match="not a score"):
        load_published(bad)
    bad.write_text(json.dumps({"entries": [{**entry, "values": {"micro": 0.5}, "metric": "lenient"}]}))
    with pytest.raises(ValueError, match="metric 'lenient'"):
        load_published(bad)


def test_metrics_without_the_per_sentence_record_show_points_only(metrics_dir, tmp_path):
    path = metrics_dir / "noisy.json"
    old = json.loads(path.read_text())
    del old["units"], old["sample"]
    path.write_text(json.dumps(old))
    build_report(metrics_dir, output=metrics_dir / "REPORT.md", n_boot=100)
    report = (metrics_dir / "REPORT.md").read_text()
    micro = 100 * old["views"]["5type"]["seqeval"]["micro"]["f"]
    assert f"| noisy † | 6 | {micro:.1f} |" in report  # no interval, nothing invented
    assert "| noisy | - | raredis_test_gold_copier | 6 of 6 | 0 | no |" in report


def test_benchmark_section(tmp_path):
    """The engine benchmark's figures reach the report as written by scripts/benchmark_llm.py."""
    from raredis_llm.scoring.report import BENCHMARK_FILE, benchmark_md
    from raredis_llm.util import write_json

    assert benchmark_md(tmp_path) is None
    rows = [{"lever": "transformers (reference)", "words_per_second": 10.0, "speedup_vs_reference": 1.0,
             "agreement": {"same_entities": 4, "sentences": 4}, "alters_outputs": False},
            {"lever": "fast + constrained", "words_per_second": 120.5, "speedup_vs_reference": 12.05,
             "agreement": {"same_entities": 3, "sentences": 4}, "alters_outputs": True}]
    write_json({"sentences": 4, "seed": 0, "cpu": {"capability": "AVX2", "native_bf16": False, "threads": 2},
                "dtype_auto": {"dtype": "float32", "reason": "no native bf16"}, "matmul_gflops": {"float32": 38.9},
                "rows": rows, "prompting_sentences": 2,
                "prompting": {"llm_fewshot_knn": [dict(rows[0], agreement={"same_entities": 2, "sentences": 2})]},
                "constraint_effect_validation": {"sentences": 4, "free": {"f": 0.5},
                                                               "constrained": {"f": 0.55}},
                "training": {"rows": [{"recipe": "before", "dtype": "float32", "seconds_per_step": 8.8,
                                       "sentences_per_second": 0.91, "speedup_vs_before": 1.0},
                                      {"recipe": "configured recipe, bfloat16", "skipped": "no native bf16"}]}},
               tmp_path / BENCHMARK_FILE)
    md = benchmark_md(tmp_path)
    assert "12.05x" in md and "3/4" in md and "dtype auto -> float32" in md
    assert "55.0" in md and "no native bf16" in md and "0.91" in md
    assert "`llm_fewshot_knn`, the first 2 of these sentences" in md and "2/2" in md


def test_selection_section(metrics_dir):
    """The package's choice on validation (scripts/select_pipeline.py's file) reaches the report."""
    from raredis_llm.scoring.report import SELECTION_FILE, selection_md
    from raredis_llm.util import write_json

    assert selection_md(metrics_dir) is None
    write_json({"chosen": "cnn", "pipeline": "training/cnn/model-best", "test_metrics": "metrics/cnn.json",
                "split": "corpus/validation.spacy", "n_docs": 200, "seed": 0, "rule": "best strict micro F1",
                "candidates": [{"system": "cnn", "f_5type": 0.6, "f_4type": 0.63, "words_per_s": 8000.0},
                               {"system": "lora_finetuned", "f_5type": 0.5, "f_4type": 0.52, "words_per_s": 95.0}]},
               metrics_dir / SELECTION_FILE)
    md = selection_md(metrics_dir)
    assert "packages **cnn**" in md and "| **cnn** | 60.0 | 63.0 | 8,000 |" in md
    assert "| lora_finetuned | 50.0 | 52.0 | 95.0 |" in md
    report = build_report(metrics_dir, n_boot=50)["report"].read_text()
    assert "## The package: `en_raredis_llm`, chosen on the validation split" in report
    assert "noisy" in report  # the selection file is not read as a system's metrics
