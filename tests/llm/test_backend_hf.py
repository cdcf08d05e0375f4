"""raredis.HFCausalLM.v1 with the real Gemma 3 270M (offline folder) in a spacy-llm pipeline."""

import math

import pytest
from tests.llm.servers import assert_ents_follow_responses, make_llm_nlp

from raredis_llm.corpus import schema
from raredis_llm.llm.backends import HFCausalLM
from raredis_llm.llm.backends.hf_causal import make_hf_causal_lm_v1
from raredis_llm.llm.cache import ResponseCache

pytestmark = pytest.mark.slow

TEXTS = ["Marfan syndrome causes long fingers.", "Fever is a sign of malaria."]
LABELS = ["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]


def model_cfg(cache_dir):
    return {
        "@llm_models": "raredis.HFCausalLM.v1",
        "name": "offline:gemma-3-270m",
        "batch_size": 2,
        "max_new_tokens": 10,
        "stop": ["\n"],
        "device": "cpu",
        "dtype": "auto",  # bf16 only where the CPU computes it natively
        "context_length": 2048,
        "cache_dir": str(cache_dir),
    }


def test_pipeline_batched_usage_and_cache(tiny_template, tmp_path):
    cache_dir = tmp_path / "cache"
    nlp = make_llm_nlp(model_cfg(cache_dir), tiny_template)
    model = nlp.get_pipe("llm")._model
    assert isinstance(model, HFCausalLM) and not model.loaded  # loads on the first cache miss
    docs = list(nlp.pipe(TEXTS))
    assert model.loaded
    assert model.stats["requests"] == 2 and model.stats["cache_misses"] == 2
    for doc in docs:
        usage = doc.user_data[schema.LLM_USAGE]
        assert usage["requests"] == 1 and usage["prompt_tokens"] > 50
        assert 1 <= usage["completion_tokens"] <= 10
        assert "\n" not in doc.user_data["llm_io"]["llm"]["response"][0].strip()  # cut at the stop string
    # A 270M base model may or may not tag anything (seen here: it usually does); whatever
    # it wrote, the entities the parser finds in it are on the doc.
    assert_ents_follow_responses(docs, LABELS)
    assert len(ResponseCache(cache_dir)) == 2

    # Second run on the same cache: no model load, no generation, same annotations.
    nlp2 = make_llm_nlp(model_cfg(cache_dir), tiny_template)
    docs2 = list(nlp2.pipe(TEXTS))
    model2 = nlp2.get_pipe("llm")._model
    assert not model2.loaded and model2.stats["cache_hits"] == 2 and model2.stats["requests"] == 0
    assert [d.user_data[schema.LLM_USAGE]["cache_hits"] for d in docs2] == [1, 1]
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs2] == [
        [(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs
    ]


def test_chat_template_needs_one():
    model = make_hf_causal_lm_v1(name="offline:gemma-3-270m", chat_template=True, device="cpu")
    assert model.context_length == 32768  # from the model config: spacy-llm can shard
    with pytest.raises(ValueError, match="no chat template"):
        model.format_prompt("x")  # Gemma 270M base ships none
    with pytest.raises(ValueError, match="chat_template"):
        make_hf_causal_lm_v1(chat_template="yes")


def test_budget_sized_to_each_sentence(tiny_template, tmp_path):
    """max_new_tokens = null: each prompt's budget comes from its own sentence, counted
    with the model's tokenizer (ner/budget.py), and generation stays within it."""
    from raredis_llm.ner.budget import ANSWER_EXTRA, ANSWER_RATIO

    cfg = dict(model_cfg(tmp_path / "cache"), max_new_tokens=None, stop=["\nText:"])
    nlp = make_llm_nlp(cfg, tiny_template)
    docs = list(nlp.pipe(TEXTS))
    model = nlp.get_pipe("llm")._model
    tok = model.engine.tokenizer
    task = nlp.get_pipe("llm").task
    prompts = [p for doc_prompts, _ in task.generate_prompts(docs) for p in doc_prompts]
    expected = [math.ceil(ANSWER_RATIO * len(tok(text, add_special_tokens=False)["input_ids"])) + ANSWER_EXTRA
                for text in TEXTS]
    assert [model.budget(p) for p in prompts] == expected
    assert [model.sized(str(p)) for p in prompts] == [False, False]  # plain strings: no sentence to size from
    for doc, budget in zip(docs, expected):
        assert 1 <= doc.user_data[schema.LLM_USAGE]["completion_tokens"] <= budget
