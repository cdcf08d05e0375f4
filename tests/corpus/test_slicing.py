"""slice_corpus keeps the first N documents per split and exactly their sentences."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from raredis_llm.corpus.slicing import slice_corpus
from raredis_llm.corpus.schema import DOC_ID, SENT_INDEX

ROOT = Path(__file__).resolve().parents[2]


def _docs(path):
    return list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))


def test_first_n_documents_and_their_sentences(tiny_corpus, tmp_path):
    out = tmp_path / "smoke"
    result = slice_corpus(tiny_corpus, out, n_docs=2)
    assert sorted(result) == ["test", "train", "validation"]
    splits_json = json.loads((out / "splits.json").read_text())
    for split, info in result.items():
        full_docs = _docs(tiny_corpus / "docs" / f"{split}.spacy")
        expected_ids = [d.user_data[DOC_ID] for d in full_docs[:2]]
        assert info["documents"] == expected_ids == splits_json["documents"][split]
        kept_docs = _docs(out / "docs" / f"{split}.spacy")
        assert [d.user_data[DOC_ID] for d in kept_docs] == expected_ids
        # sentences: exactly those of the kept documents, original order, content intact
        full_sents = _docs(tiny_corpus / f"{split}.spacy")
        kept_sents = _docs(out / f"{split}.spacy")
        expected = [s for s in full_sents if s.user_data[DOC_ID] in expected_ids]
        assert len(kept_sents) == info["sentences"] == len(expected) > 0
        assert [(s.user_data[DOC_ID], s.user_data[SENT_INDEX], s.text) for s in kept_sents] == \
               [(s.user_data[DOC_ID], s.user_data[SENT_INDEX], s.text) for s in expected]
        assert [[(e.start, e.end, e.label_) for e in s.ents] for s in kept_sents] == \
               [[(e.start, e.end, e.label_) for e in s.ents] for s in expected]
        assert [s.user_data for s in kept_sents] == [s.user_data for s in expected]
        assert {s.user_data[DOC_ID] for s in kept_sents} == set(expected_ids)


def test_deterministic(tiny_corpus, tmp_path):
    slice_corpus(tiny_corpus, tmp_path / "a", n_docs=1, splits=["train"])
    slice_corpus(tiny_corpus, tmp_path / "b", n_docs=1, splits=["train"])
    for rel in ("train.spacy", "docs/train.spacy", "splits.json"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    assert not (tmp_path / "a" / "test.spacy").exists()


def test_more_docs_than_available_keeps_all(tiny_corpus, tmp_path):
    result = slice_corpus(tiny_corpus, tmp_path / "all", n_docs=100, splits=["validation"])
    assert len(result["validation"]["documents"]) == len(_docs(tiny_corpus / "docs" / "validation.spacy"))
    assert result["validation"]["sentences"] == len(_docs(tiny_corpus / "validation.spacy"))


def test_without_doc_level_files_uses_sentence_order(tiny_corpus, tmp_path):
    src = tmp_path / "sents_only"
    src.mkdir()
    (src / "train.spacy").write_bytes((tiny_corpus / "train.spacy").read_bytes())
    result = slice_corpus(src, tmp_path / "out", n_docs=2)
    first_ids = []
    for s in _docs(src / "train.spacy"):
        if s.user_data[DOC_ID] not in first_ids:
            first_ids.append(s.user_data[DOC_ID])
    assert result["train"]["documents"] == first_ids[:2]
    assert not (tmp_path / "out" / "docs").exists()


def test_missing_doc_id_names_file_and_doc(tmp_path):
    src = tmp_path / "bad"
    src.mkdir()
    nlp = spacy.blank("en")
    ok, bad = nlp("A fine sentence."), nlp("No id here.")
    ok.user_data[DOC_ID] = "D1"
    DocBin(docs=[ok, bad], store_user_data=True).to_disk(src / "train.spacy")
    with pytest.raises(ValueError, match=r"train\.spacy: Doc #1 .*raredis_doc_id"):
        slice_corpus(src, tmp_path / "out", n_docs=5)


def test_bad_arguments(tiny_corpus, tmp_path):
    with pytest.raises(ValueError, match="n_docs"):
        slice_corpus(tiny_corpus, tmp_path / "x", n_docs=0)
    with pytest.raises(ValueError, match="input folder"):
        slice_corpus(tiny_corpus, tiny_corpus, n_docs=1)
    with pytest.raises(ValueError, match="'nosuch' not found"):
        slice_corpus(tiny_corpus, tmp_path / "x", n_docs=1, splits=["nosuch"])


@pytest.mark.slow
def test_convert_keeps_the_first_documents(raredis_dir, tmp_path):
    """scripts/convert.py --n-docs: the smoke run's corpus, converted then cut in one step
    (on 8 train and 3 dev documents of RareDis, in the RareDis-v1 folder layout)."""
    from raredis_llm.corpus.sources import fetch
    from tests.conftest import _extract

    source = tmp_path / "source"
    _extract(raredis_dir / "train.zip", 0, 8, source)
    _extract(raredis_dir / "dev.zip", 0, 3, source)
    assets = fetch(tmp_path / "assets", source=source, log=lambda *_: None)
    out = tmp_path / "corpus"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "convert.py"), str(assets), str(out), "--n-docs", "2",
                           "--validation-fraction", "0.25"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Kept the first 2 documents per split" in proc.stdout
    splits = json.loads((out / "splits.json").read_text())
    assert {k: len(v) for k, v in splits["documents"].items()} == {"train": 2, "validation": 2, "test": 2}
    assert (out / "conversion_report.json").exists() and (out / "docs" / "test.spacy").exists()
