"""The annotate benchmark: a real run with memory marks, and a SIGKILL + restart whose
output equals the uninterrupted run's."""

import json

import pytest

from raredis_llm.annotate.benchmark import kill_and_restart, make_input, run_annotate


@pytest.mark.slow
def test_benchmark_run_and_kill(tiny_cnn, tiny_corpus, tmp_path):
    info = make_input([tiny_corpus / "train.spacy"], 400, tmp_path / "in.jsonl")
    assert info["docs"] == 400 and info["distinct_texts"] < 400
    ids = [json.loads(l)["id"] for l in (tmp_path / "in.jsonl").read_text().splitlines()]
    assert ids == [f"{i:06d}" for i in range(400)]
    run = run_annotate(str(tiny_cnn), tmp_path / "in.jsonl", tmp_path / "ref" / "out.jsonl", marks=[100, 400],
                       extra=["--commit-every", "4"])
    assert run["returncode"] == 0 and run["summary"]["done"] == 400
    assert set(run["rss_mb_at_lines"]) <= {100, 400} and run["peak_rss_mb"] > 0
    restart = kill_and_restart(str(tiny_cnn), tmp_path / "in.jsonl", tmp_path / "kill", tmp_path / "ref" / "out.jsonl",
                               kill_at=50, extra=["--commit-every", "4"], poll_s=0.01)
    if restart["killed_at_lines"] is not None:  # killed before it finished: the restart did the rest
        assert restart["restart_skipped_done"] + restart["restart_done"] == 400
    assert restart["identical_to_uninterrupted"]
