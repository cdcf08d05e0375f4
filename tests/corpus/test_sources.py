import shutil
import zipfile

import pytest

from raredis_llm.corpus.brat import BratError
from raredis_llm.corpus.convert import convert_corpus
from raredis_llm.corpus.sources import SourceError, fetch, md5, plan_splits, unpack


def _write(folder, name, text, ann):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text)
    (folder / f"{name}.ann").write_text(ann)


def _v1(root, with_test=True):
    for split, names in {"train": [f"d{i}" for i in range(10)], "dev": ["v0", "v1"], "test": ["t0"]}.items():
        if split == "test" and not with_test:
            continue
        for name in names:
            _write(root / split, name, "Fever and pain. Rare disease.", "T1\tSIGN 0 5\tFever\nT2\tSYMPTOM 10 14\tpain\n")
    return root


def test_official_layout_keeps_its_splits(tmp_path):
    plan = plan_splits(_v1(tmp_path))
    assert {k: [p.stem for p in v] for k, v in plan.items()} == {
        "train": [f"d{i}" for i in range(10)], "validation": ["v0", "v1"], "test": ["t0"]
    }


def test_public_layout_carves_validation_deterministically(tmp_path):
    root = _v1(tmp_path, with_test=False)
    a, b = plan_splits(root, seed=3), plan_splits(root, seed=3)
    assert a == b and len(a["validation"]) == 1 and len(a["train"]) == 9
    assert [p.stem for p in a["test"]] == ["v0", "v1"]


def test_unpack_never_writes_into_the_source(raredis_dir, tmp_path):
    before = sorted(p.name for p in raredis_dir.iterdir())
    folder = unpack(raredis_dir)
    assert folder != raredis_dir and (folder / "train").is_dir()
    assert sorted(p.name for p in raredis_dir.iterdir()) == before
    shutil.rmtree(folder)


def test_fetch_checks_md5(raredis_dir, tmp_path):
    dest = fetch(tmp_path / "a", source=raredis_dir, log=lambda *_: None)
    assert md5(dest / "train.zip") == "553d193355b8904bcf88f7e5d5f4c791"
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("train.zip", "dev.zip"):
        with zipfile.ZipFile(bad / name, "w") as zf:
            zf.writestr("x.txt", "not the corpus")
    with pytest.raises(SourceError, match="md5"):
        fetch(tmp_path / "b", source=bad, log=lambda *_: None)
    with pytest.raises(SourceError, match="neither"):
        fetch(tmp_path / "c", source=tmp_path / "a" / "..", log=lambda *_: None)


def test_convert_strict_fails_and_lenient_counts(tmp_path):
    root = _v1(tmp_path / "src")
    (root / "train" / "d3.ann").write_text("T1\tSIGN 0 5\tFever\nT2\tSIGN 0 999\tpain\n")
    with pytest.raises(BratError, match=r"d3.ann:2"):
        convert_corpus(root, tmp_path / "out", progress=False)
    report = convert_corpus(root, tmp_path / "out", lenient=True, progress=False)
    assert report["splits"]["train"]["issues"] == {"offsets_out_of_range": 1}
    assert report["splits"]["train"]["entities"]["SIGN"]["read"] == 10
    assert (tmp_path / "out" / "docs" / "test.spacy").exists() and (tmp_path / "out" / "splits.json").exists()
