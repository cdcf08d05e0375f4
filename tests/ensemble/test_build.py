"""build_ensemble with real trained pipelines: members keep their own embeddings, the vote
is what the members say, and the saved ensemble loads and tags the same."""

import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from raredis_llm.ensemble import build_ensemble
from raredis_llm.ensemble.build import member_specs
from tests.lean_load import modules_after_load, not_for_loading

ROOT = Path(__file__).resolve().parents[2]


def ents(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


@pytest.fixture(scope="module")
def texts(tiny_corpus):
    from spacy.tokens import DocBin

    docs = DocBin().from_disk(tiny_corpus / "test.spacy").get_docs(spacy.blank("en").vocab)
    return [d.text for d in docs][:30]


def test_two_copies_of_one_pipeline_vote_as_it_tags(tiny_cnn, texts):
    cnn = spacy.load(tiny_cnn)
    nlp = build_ensemble([("a", tiny_cnn), ("b", tiny_cnn)], min_votes=2)
    assert nlp.pipe_names == ["a_ner", "a_collect", "b_ner", "b_collect", "raredis_span_vote"]
    assert "a_tok2vec" not in nlp.pipe_names  # copied into the NER (replace_listeners)
    expected = [ents(d) for d in cnn.pipe(texts)]
    got = list(nlp.pipe(texts))
    assert [ents(d) for d in got] == expected and any(expected)
    assert [[(s.start_char, s.end_char, s.label_) for s in d.spans["raredis_member_b"]] for d in got] == expected


def test_cnn_and_transformer_saved_and_loaded(tiny_cnn, tiny_trf, texts, tmp_path):
    nlp = build_ensemble([("cnn", tiny_cnn), ("trf", tiny_trf)], min_votes=1)
    before = [ents(d) for d in nlp.pipe(texts)]
    cnn, trf = spacy.load(tiny_cnn), spacy.load(tiny_trf)
    for doc, c, t in zip(nlp.pipe(texts), cnn.pipe(texts), trf.pipe(texts)):
        assert [(s.start_char, s.end_char, s.label_) for s in doc.spans["raredis_member_cnn"]] == ents(c)
        assert [(s.start_char, s.end_char, s.label_) for s in doc.spans["raredis_member_trf"]] == ents(t)
        # union (min_votes 1), the CNN first: all its spans, and the transformer's where they do not overlap one
        assert set(ents(c)) <= set(ents(doc))
        assert all(x in ents(doc) or any(x[0] < y[1] and y[0] < x[1] for y in ents(c)) for x in ents(t))
    nlp.to_disk(tmp_path / "ensemble")
    loaded = spacy.load(tmp_path / "ensemble")
    assert [ents(d) for d in loaded.pipe(texts)] == before
    assert loaded.meta["raredis_ensemble"]["members"] == {"cnn": str(tiny_cnn), "trf": str(tiny_trf)}


@pytest.mark.slow
def test_loading_an_ensemble_imports_what_it_runs(tiny_cnn, tiny_trf, tmp_path):
    """In a fresh interpreter: not the training, prompting or scoring code (tests/lean_load.py)."""
    build_ensemble([("cnn", tiny_cnn), ("trf", tiny_trf)], min_votes=1).to_disk(tmp_path / "ensemble")
    assert not_for_loading(modules_after_load(tmp_path / "ensemble")) == []


def test_the_tokenizer_comes_from_the_member_named(tiny_cnn, tiny_trf):
    text = "Fabry disease</p><br/><b>pain</b> and fever."
    cnn, trf = spacy.load(tiny_cnn), spacy.load(tiny_trf)
    assert [t.text for t in cnn.make_doc(text)] != [t.text for t in trf.make_doc(text)]  # markup split or not
    for first, other, source in (("trf", "cnn", cnn), ("cnn", "trf", trf)):
        members = [(first, tiny_trf if first == "trf" else tiny_cnn), (other, tiny_cnn if other == "cnn" else tiny_trf)]
        nlp = build_ensemble(members, tokenizer_from=other)
        assert [t.text for t in nlp.make_doc(text)] == [t.text for t in source.make_doc(text)]
        assert nlp.meta["raredis_ensemble"]["tokenizer_from"] == other
    with pytest.raises(ValueError, match="not a member"):
        build_ensemble([("a", tiny_cnn), ("b", tiny_trf)], tokenizer_from="c")


def test_bad_members(tiny_cnn, tmp_path):
    with pytest.raises(ValueError, match="at least two"):
        build_ensemble([("a", tiny_cnn)])
    with pytest.raises(ValueError, match="must differ"):
        build_ensemble([("a", tiny_cnn), ("a", tiny_cnn)])
    with pytest.raises(FileNotFoundError, match="member b"):
        build_ensemble([("a", tiny_cnn), ("b", tmp_path / "nothing")])
    with pytest.raises(ValueError, match="NAME=PATH"):
        member_specs(["just-a-path"])


@pytest.mark.slow
def test_script(tiny_cnn, tmp_path):
    out = tmp_path / "ens"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "assemble_ensemble.py"), str(out),
                           "--member", f"a={tiny_cnn}", "--member", f"b={tiny_cnn}", "--min-votes", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert spacy.load(out).get_pipe("raredis_span_vote").min_votes == 2
