"""python -m raredis_llm annotate: a run killed with SIGKILL half-way and started again
writes exactly what an uninterrupted run writes; configs are built once and reused."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from tests.annotate import faulty
from tests.annotate.jsonl_files import read_jsonl, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
FAULTY = Path(faulty.__file__)


def annotate_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "components"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "raredis_llm", "annotate", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd or ROOT, timeout=600)


@pytest.mark.slow
def test_sigkill_then_restart_equals_an_uninterrupted_run(tiny_cnn, sentences, tmp_path):
    flag = tmp_path / "killed.flag"
    nlp = spacy.load(tiny_cnn)
    nlp.add_pipe(faulty.KILL_ONCE, config={"marker": "KILL-HERE", "flag": str(flag)})
    nlp.to_disk(tmp_path / "pipeline")
    rows = [{"id": f"{i}-{n}", "text": t} for n in range(3) for i, t in sentences]
    rows[100]["text"] += " KILL-HERE"
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    common = ["--code", FAULTY, "--commit-every", 8, "--batch-size", 16, "--no-progress"]

    run = tmp_path / "run"
    killed = annotate_cli(tmp_path / "pipeline", data, run / "out.jsonl", "--docbin", run / "db", *common)
    assert killed.returncode == -9, killed.stderr[-2000:]
    written = read_jsonl(run / "out.jsonl")
    assert 0 < len(written) < 100 and flag.exists()

    again = annotate_cli(tmp_path / "pipeline", data, run / "out.jsonl", "--docbin", run / "db", *common)
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads((run / "out.summary.json").read_text())
    assert summary["skipped_done"] == len(written) + summary["repaired"].get("lines_from_docbin", 0)
    assert summary["skipped_done"] + summary["done"] == len(rows) and summary["failed"] == 0

    ref = tmp_path / "ref"  # the flag exists now: no kill
    whole = annotate_cli(tmp_path / "pipeline", data, ref / "out.jsonl", "--docbin", ref / "db", *common)
    assert whole.returncode == 0, whole.stderr[-2000:]
    assert (run / "out.jsonl").read_bytes() == (ref / "out.jsonl").read_bytes()
    ids = [l["id"] for l in read_jsonl(run / "out.jsonl")]
    assert ids == [r["id"] for r in rows]
    from raredis_llm.annotate.writers import DocBinShards

    assert [i for i, _ in DocBinShards(run / "db").docs()] == ids


ASSEMBLED = """
[paths]
patterns = null

[nlp]
lang = "en"
pipeline = ["entity_ruler", "raredis_entity_guard"]

[components]

[components.entity_ruler]
factory = "entity_ruler"

[components.raredis_entity_guard]
factory = "raredis_entity_guard"
trim_cues = false

[initialize]

[initialize.components]

[initialize.components.entity_ruler]

[initialize.components.entity_ruler.patterns]
@readers = "srsly.read_json.v1"
path = ${paths.patterns}
"""


@pytest.mark.slow
def test_a_config_is_assembled_once(tmp_path):
    (tmp_path / "ruler.cfg").write_text(ASSEMBLED)
    patterns = tmp_path / "patterns.json"
    patterns.write_text(json.dumps([{"label": "RAREDISEASE", "pattern": "Fabry disease"},
                                    {"label": "SIGN", "pattern": "no fever"}]))
    data = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "No sign of Fabry disease.\n- Fabry disease"}])
    args = [tmp_path / "ruler.cfg", data, tmp_path / "out.jsonl", "--work-dir", tmp_path / "work",
            "--no-progress", "--paths.patterns", patterns]
    first = annotate_cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    built = list((tmp_path / "work").iterdir())
    assert len(built) == 1 and built[0].name.startswith("ruler-")
    assert [e["start"] for e in read_jsonl(tmp_path / "out.jsonl")[0]["ents"]] == [11, 28]
    (tmp_path / "out.jsonl").unlink()
    second = annotate_cli(*args)
    assert second.returncode == 0 and list((tmp_path / "work").iterdir()) == built
    # overrides also reach a saved pipeline's config
    fever = write_jsonl(tmp_path / "fever.jsonl", [{"id": "a", "text": "The patient has no fever."}])
    for trim, expected in (("false", "no fever"), ("true", "fever")):
        res = annotate_cli(built[0], fever, tmp_path / f"{trim}.jsonl", "--no-progress",
                           "--components.raredis_entity_guard.trim_cues", trim)
        assert res.returncode == 0, res.stderr[-2000:]
        assert [e["text"] for e in read_jsonl(tmp_path / f"{trim}.jsonl")[0]["ents"]] == [expected]
    patterns.write_text(json.dumps([{"label": "RAREDISEASE", "pattern": "Fabry"}]))  # new data -> new build
    (tmp_path / "out.jsonl").unlink()
    third = annotate_cli(*args)
    assert third.returncode == 0 and len(list((tmp_path / "work").iterdir())) == 2


@pytest.mark.slow
def test_a_trainable_config_is_trained_once(tiny_corpus, tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Fabry disease is rare."}])
    args = [ROOT / "configs" / "cnn.cfg", data, tmp_path / "out.jsonl", "--work-dir", tmp_path / "work", "--no-progress",
            "--paths.train", tiny_corpus / "train.spacy", "--paths.dev", tiny_corpus / "validation.spacy",
            "--training.max_steps", "4", "--training.eval_frequency", "2"]
    first = annotate_cli(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    (built,) = list((tmp_path / "work").iterdir())
    assert (built / "model-best" / "config.cfg").exists()
    stamp = (built / "model-best" / "meta.json").stat().st_mtime_ns
    (tmp_path / "out.jsonl").unlink()
    second = annotate_cli(*args)
    assert second.returncode == 0 and (built / "model-best" / "meta.json").stat().st_mtime_ns == stamp
    assert read_jsonl(tmp_path / "out.jsonl")[0]["id"] == "a"


def test_unknown_pipeline_is_a_clear_error(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x"}])
    res = annotate_cli("no_such_pipeline_xyz", data, tmp_path / "out.jsonl", "--no-progress")
    assert res.returncode != 0
    assert "no_such_pipeline_xyz: not an installed pipeline package, a pipeline folder or a .cfg file" in " ".join(res.stdout.split())
    assert "Traceback" not in res.stderr
