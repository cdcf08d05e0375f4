"""SpacyEngine: one result per input in input order; a failing document is isolated
(whether its batch was dropped by the error handler or broke the stream), the others
are annotated as without it; n_process=2 gives the same entities as one process."""

import sys

import pytest
import spacy
from tests.annotate import faulty  # noqa: F401  (registers the failing components)

from raredis_llm.annotate.engines import SpacyEngine


def ents(doc):
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def run(engine, texts):
    out = []
    for seq, doc, err in engine.run(list(enumerate(texts))):
        out.append((seq, ents(doc) if doc is not None else None, err))
    return out


@pytest.fixture(scope="module")
def cnn(tiny_cnn):
    return spacy.load(tiny_cnn)


@pytest.mark.parametrize("handled", [True, False], ids=["batch-dropped", "stream-broken"])
def test_a_failing_document_is_isolated(cnn, sentences, handled):
    texts = [t for _, t in sentences[:40]]
    reference = run(SpacyEngine(cnn, batch_size=8), texts)
    assert all(err is None for _, _, err in reference)
    nlp = cnn
    nlp.add_pipe(faulty.FAIL_ON, config={"marker": "BOOM", "handled": handled})
    try:
        bad = list(texts)
        bad[5] = "BOOM " + bad[5]
        bad[21] = bad[21] + " BOOM"
        engine = SpacyEngine(nlp, batch_size=8, window=16)
        got = run(engine, bad)
        engine.close()
    finally:
        nlp.remove_pipe(faulty.FAIL_ON)
    assert [seq for seq, _, _ in got] == list(range(len(texts)))
    assert [i for i, _, err in got if err] == [5, 21]
    assert got[5][2] == "ValueError: cannot handle 'BOOM " + texts[5][:15] + "'"
    for i, (_, e, err) in enumerate(got):
        if i not in (5, 21):
            assert e == reference[i][1]
    stats = engine.stats()
    assert stats["retried_one_by_one"] >= 8  # at least the failing batches, one by one
    if not handled:
        assert stats["pipe_restarts"] == 2


def test_too_long_for_the_pipeline_is_a_document_error(cnn):
    engine = SpacyEngine(cnn)
    cnn.max_length = 50
    try:
        got = run(engine, ["Fabry disease.", "x " * 40])
    finally:
        cnn.max_length = 1_000_000
        engine.close()
    assert got[0][2] is None and "max_length" in got[1][2]


@pytest.mark.slow
def test_two_processes_same_entities_as_one(cnn, sentences):
    texts = [t for _, t in sentences] * 2
    one = run(SpacyEngine(cnn, batch_size=16), texts)
    two = run(SpacyEngine(cnn, batch_size=16, n_process=2), texts)
    assert one == two
    assert sum(len(e) for _, e, _ in one) > 0


@pytest.mark.slow
def test_two_processes_isolate_a_failure(cnn, sentences):
    texts = [t for _, t in sentences * 2][:64]
    texts[40] = "BOOM " + texts[40]
    cnn.add_pipe(faulty.FAIL_ON, config={"marker": "BOOM"})
    try:
        engine = SpacyEngine(cnn, batch_size=8, n_process=2)
        got = run(engine, texts)
        engine.close()
    finally:
        cnn.remove_pipe(faulty.FAIL_ON)
    assert [seq for seq, _, _ in got] == list(range(64))
    assert [i for i, _, err in got if err] == [40]


TWO_PROCESS_SCRIPT = """
import json, sys, spacy
from raredis_llm.annotate.engines import SpacyEngine
nlp = spacy.load(sys.argv[1])
nlp("Warm-up: torch's thread pool now exists in this process.")
texts = json.loads(sys.argv[2])
engine = SpacyEngine(nlp, batch_size=8, n_process=2)
out = [[seq, [[e.start_char, e.end_char, e.label_] for e in doc.ents], err] for seq, doc, err in engine.run(list(enumerate(texts)))]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_two_processes_of_a_torch_pipeline_finish(tiny_trf, sentences):
    """Forked workers of a transformer pipeline used to wait forever on torch's thread pool."""
    import json
    import subprocess

    texts = [t for _, t in sentences][:40]
    one = run(SpacyEngine(spacy.load(tiny_trf), batch_size=8), texts)
    proc = subprocess.run([sys.executable, "-c", TWO_PROCESS_SCRIPT, str(tiny_trf), json.dumps(texts)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    two = [(seq, [tuple(e) for e in ents], err) for seq, ents, err in json.loads(proc.stdout.strip().splitlines()[-1])]
    assert two == one
