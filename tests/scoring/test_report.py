import json

import pytest

from gold_copier import copier_pipeline, gold_table
from script_runner import run_script
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
    out = build_report(metrics_dir, output=metrics_dir / "REPORT.md")
    assert out["systems"] == ["gold-copier", "noisy"]
    report = (metrics_dir / "REPORT.md").read_text()
    for view in ("5type", "4type"):
        png = metrics_dir / f"f1_per_type_{view}.png"
        assert png.read_bytes()[:8] == PNG
        assert f"({png.name})" in report
    assert "| gold-copier | 100.0 (100.0/100.0) |" in report
    assert "noisy" in report and "SKINRAREDISEASE" in report
    assert "Total run time: 1.9 min (112 s)" in report and "| evaluate | 100.0 |" in report
    assert "## Published reference numbers (not our measurements)" in report
    assert "| noisy | 50" not in report  # usage is per system total, 6 docs
    assert "| noisy | 6 | 300 | 30 | 6 |" in report
    html = (metrics_dir / "errors.html").read_text()
    assert "noisy" in html and "class=\"entities\"" in html
    assert "gold-copier</a> (0 sentences with errors)" in html
    assert html.count("<tr><td>") == 3  # three sentences with errors, gold and pred side by side
    results = (metrics_dir / "RESULTS.md").read_text()
    assert "| gold-copier | 100.0 | 100.0 | 100.0 | 100.0 |" in results
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
                                      "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    assert "| noisy |" in readme.read_text()
    assert (metrics_dir / "errors.html").exists() and (metrics_dir / "RESULTS.md").exists()


def test_published_numbers_file_is_valid_and_separate(tmp_path):
    data = load_published()
    assert isinstance(data["entries"], list)
    md = published_markdown(data, ["micro"])
    assert md.startswith("## Published reference numbers (not our measurements)")
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"entries": [{"source": "x", "split": "test", "metric": "F1", "view": "4type",
                                            "system": "s", "values": {"micro": 87.0}}]}))
    with pytest.raises(ValueError, match="not a score"):
        load_published(bad)
