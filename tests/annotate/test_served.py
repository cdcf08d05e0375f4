"""annotate with an LLM pipeline whose backend is an OpenAI-compatible server (real HTTP on
127.0.0.1), 8 requests in flight: a bounded load test (50 documents) with server faults
and client timeouts. Nothing is lost or duplicated, the entities equal a sequential run's,
and the retries are counted in the run summary."""

import time
from pathlib import Path

import pytest
from tests.annotate.jsonl_files import read_jsonl, write_jsonl
from tests.llm.servers import TINY_TEMPLATE, FaultyOpenAIServer, make_llm_nlp, text_of_prompt

from raredis_llm.annotate.engines import SpacyEngine
from raredis_llm.annotate.pipelines import load_pipeline
from raredis_llm.annotate.runner import annotate

ROOT = Path(__file__).resolve().parents[2]

MENTIONS = (("cystic fibrosis", "RAREDISEASE"), ("Fabry disease", "RAREDISEASE"), ("fever", "SIGN"))


def tagger(prompt: str) -> str:
    """A perfect annotator in the inline format; a little slow, so requests overlap."""
    time.sleep(0.02)
    text = text_of_prompt(prompt)
    for mention, label in MENTIONS:
        text = text.replace(mention, f"<{label}>{mention}</{label}>")
    return " " + text


@pytest.fixture
def server():
    with FaultyOpenAIServer(answer=tagger) as srv:
        yield srv


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "tiny_ner.jinja"
    path.write_text(TINY_TEMPLATE, encoding="utf8")
    return path


def run(server, template, corpus, out, in_flight: int, timeout: float = 5.0):
    cfg = {"@llm_models": "raredis.OpenAIChat.v1", "name": "m", "base_url": server.url, "context_length": 4096,
           "endpoint": "completions", "max_concurrency": in_flight, "max_retries": 3, "backoff_base": 0.01,
           "backoff_max": 0.05, "timeout": timeout}
    engine = SpacyEngine(make_llm_nlp(cfg, template, save_io=False), batch_size=16)
    try:
        return annotate(engine, corpus, out, progress=False)
    finally:
        engine.close()


def test_eight_in_flight_with_faults_equals_sequential(server, template, tmp_path):
    texts = [f"Case {i}: " + ["cystic fibrosis with fever.", "no sign of Fabry disease.", "a normal visit."][i % 3]
             for i in range(50)]
    corpus = write_jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)])

    sequential = run(server, template, corpus, tmp_path / "seq.jsonl", in_flight=1)
    assert server.max_in_flight == 1
    server.reset_counts()
    server.fail_next("500", times=2)
    server.fail_next("429", retry_after=0.05)
    server.fail_next("slow", delay=3.0)  # the client gives up after 1.5 s and asks again
    served = run(server, template, corpus, tmp_path / "served.jsonl", in_flight=8, timeout=1.5)

    assert server.max_in_flight > 1
    lines = read_jsonl(tmp_path / "served.jsonl")
    assert [r["id"] for r in lines] == [f"d{i}" for i in range(50)]  # none lost, none twice, in order
    assert lines == read_jsonl(tmp_path / "seq.jsonl")
    assert sum(len(r["ents"]) for r in lines) == 17 * 2 + 17 * 1 + 0  # every mention of the texts
    assert served["done"] == sequential["done"] == 50 and served["failed"] == 0
    llm = served["engine"]["llm"]["llm"]
    # 4 injected faults, each retried (a busy machine may time out another request: also counted)
    assert llm["retries"] >= 4 and llm["failures"] == 0 and llm["prompts"] == 50
    assert llm["requests"] == 50 + llm["retries"] == len(server.completion_requests())
    assert sequential["engine"]["llm"]["llm"]["retries"] == 0


def test_a_document_the_server_never_answers_is_an_error_line(server, template, tmp_path):
    texts = {f"d{i}": f"Case {i}: cystic fibrosis." for i in range(20)}
    texts["d7"] = "Case 7: POISON cystic fibrosis."
    corpus = write_jsonl(tmp_path / "in.jsonl", [{"id": k, "text": v} for k, v in texts.items()])
    server.fail_prompts_containing("POISON", "500")
    result = run(server, template, corpus, tmp_path / "out.jsonl", in_flight=8)
    assert result["done"] == 19 and result["failed"] == 1
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == [k for k in texts if k != "d7"]
    [err] = read_jsonl(tmp_path / "out.errors.jsonl")
    assert err["id"] == "d7" and "500" in err["error"]


def test_a_strategy_config_on_a_served_engine(server, tmp_path):
    """configs/llm_zeroshot.cfg with --llm-backend openai: the project's prompt goes to the
    server (base_url and in-flight requests are overrides), one request per document."""
    overrides = {"components.llm.model.base_url": server.url, "components.llm.model.max_concurrency": 8,
                 "components.llm.model.cache_dir": None, "components.llm.model.max_retries": 1}
    nlp = load_pipeline(str(ROOT / "configs" / "llm_zeroshot.cfg"), overrides=overrides, work_dir=tmp_path / "work",
                        llm_backend="openai")
    assert nlp.pipe_names == ["raredis_boundaries", "llm", "raredis_entity_guard"]
    assert (tmp_path / "work" / "llm_zeroshot.openai.cfg").exists()
    texts = [f"Case {i}: Fabry disease with fever." for i in range(12)]
    corpus = write_jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)])
    engine = SpacyEngine(nlp, batch_size=12)
    try:
        result = annotate(engine, corpus, tmp_path / "out.jsonl", progress=False)
    finally:
        engine.close()
    assert result["done"] == 12 and result["engine"]["llm"]["llm"]["requests"] == 12
    assert sorted(texts) == sorted(t for t in texts for r in server.completion_requests() if t in r.prompt)
    with pytest.raises(ValueError, match="prompting strategy"):
        load_pipeline(str(ROOT / "configs" / "cnn.cfg"), work_dir=tmp_path / "work", llm_backend="openai")
