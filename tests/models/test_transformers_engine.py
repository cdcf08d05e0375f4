"""The transformers engine with the real Gemma 3 270M: both decoders, batching, prefix
reuse, budgets, stop strings and constrained decoding."""

import re

import pytest

from raredis_llm.models.engine import Constraint
from raredis_llm.models.transformers_engine import TransformersEngine
from raredis_llm.ner.formats import get_format

pytestmark = pytest.mark.slow

INSTRUCTION = "Copy the text and tag every disease with <DISEASE>...</DISEASE>.\n"
TEXTS = ["Fabry disease causes pain.", "Hi", "Marfan syndrome affects the heart and the eyes of the patient."]
PROMPTS = [f"{INSTRUCTION}Text: {t}\nAnswer:" for t in TEXTS]
BUDGETS = [6, 2, 6]
GLUE = tuple(get_format("inline").constraint_strings(["DISEASE"]))
CONSTRAINTS = [Constraint((t,), GLUE) for t in TEXTS]


@pytest.fixture(scope="module")
def engines():
    fast = TransformersEngine("offline:gemma-3-270m", dtype="float32", batch_size=3, threads=1)
    fast.load()
    hf = TransformersEngine.from_model(*fast.load(), batch_size=3, decoder="hf")
    one = TransformersEngine.from_model(*fast.load(), batch_size=1, decoder="hf", reuse_prefix=False)
    return fast, hf, one


@pytest.fixture(scope="module")
def one_by_one(engines):
    """Plain model.generate, one prompt at a time: no padding, no shared cache."""
    return [str(x) for x in engines[2].generate(PROMPTS, BUDGETS)]


def test_fast_and_hf_decoders_equal_one_by_one(engines, one_by_one):
    fast, hf, _ = engines
    for engine in (fast, hf):
        out = engine.generate(PROMPTS, BUDGETS)
        assert [str(x) for x in out] == one_by_one
        for prompt, completion, budget in zip(PROMPTS, out, BUDGETS):
            assert completion.usage["prompt_tokens"] == len(engine.encode(prompt))
            assert 1 <= completion.usage["completion_tokens"] <= budget
    assert len(set(one_by_one)) == 3


def test_prefix_reuse_across_calls_changes_nothing(engines, one_by_one):
    """The shared instruction is cached after the first batch; single prompts reuse it."""
    fast = engines[0]
    fast.generate(PROMPTS, BUDGETS)
    assert fast._prefix is not None and len(fast._prefix[0]) >= 8
    singles = [str(fast.generate([p], [b])[0]) for p, b in zip(PROMPTS, BUDGETS)]
    assert singles == one_by_one


def test_prompts_reuse_the_prefix_they_share_with_their_neighbour(engines):
    """Prompts that share more than the instruction (a cluster's examples, a retrieved
    chunk) reuse each other's cache, whatever order they come in, and still answer as
    plain decoding one prompt at a time does."""
    fast, _, one = engines
    blocks = ["Text: Gaucher disease is rare.\nAnswer: <DISEASE>Gaucher disease</DISEASE> is rare.\n",
              "Text: Pain and fever were reported in a few patients.\nAnswer: Pain and fever were reported.\n"]
    prompts = [f"{INSTRUCTION}{blocks[b]}Text: {t}\nAnswer:" for b, t in [(1, TEXTS[0]), (0, TEXTS[2]), (1, TEXTS[2]),
                                                                        (0, TEXTS[0]), (0, TEXTS[1])]]
    budgets = [5] * len(prompts)
    fast._prefix = None
    before = dict(fast.prefill_stats)
    out = [str(x) for x in fast.generate(prompts, budgets)]
    assert out == [str(x) for x in one.generate(prompts, budgets)]
    total = sum(len(fast.encode(p)) for p in prompts)
    computed = fast.prefill_stats["computed_tokens"] - before["computed_tokens"]
    assert fast.prefill_stats["prompt_tokens"] - before["prompt_tokens"] == total
    # each block is run once: the instruction once, block 0 once for its 3 prompts, block 1 once for its 2
    shared = len(fast.encode(INSTRUCTION + blocks[0])) - 1
    assert computed <= total - 2 * shared, (computed, total)


def test_on_result_streams_every_answer(engines):
    got = {}
    out = engines[0].generate(PROMPTS, BUDGETS, on_result=lambda i, c: got.__setitem__(i, str(c)))
    assert got == {i: str(c) for i, c in enumerate(out)}


def test_stop_strings(engines):
    full = str(engines[2].generate([PROMPTS[2]], [12])[0])
    cut = next(i for i in range(len(full) // 2, len(full)) if full[i:i + 3].strip() and full.find(full[i:i + 3]) == i)
    stop = full[cut:cut + 3]
    for engine in engines[:2]:
        out = engine.generate([PROMPTS[2]], [12], stop=[stop])[0]
        assert str(out) == full[:cut]
        assert out.meta["finish_reason"] == "stop"


def test_constrained_decoding_copies_only_the_input(engines):
    """Under a constraint the fast decoder's small output layer and the hf decoder's
    logits mask pick the same tokens, all of them allowed."""
    fast, hf, _ = engines
    budgets = [24, 4, 24]
    a = fast.generate(PROMPTS, budgets, constraints=CONSTRAINTS)
    b = hf.generate(PROMPTS, budgets, constraints=CONSTRAINTS)
    assert [str(x) for x in a] == [str(x) for x in b]
    for text, completion, constraint in zip(TEXTS, a, CONSTRAINTS):
        allowed = set(fast.allowed_ids(constraint))
        assert len(allowed) < 2000 and fast.eos_ids()[0] in allowed
        # without its tags (and a tag cut off by the budget) the answer is made of the input's words
        plain = re.sub(r"</?DISEASE>|</?[A-Z]*$", " ", str(completion))
        assert all(word in text for word in plain.split()), (text, str(completion))


def test_mixed_constrained_and_free_rows(engines, one_by_one):
    fast = engines[0]
    out = fast.generate(PROMPTS, BUDGETS, constraints=[None, CONSTRAINTS[1], None])
    assert str(out[0]) == one_by_one[0] and str(out[2]) == one_by_one[2]


def test_bad_requests():
    engine = TransformersEngine("offline:gemma-3-270m")
    with pytest.raises(ValueError, match="budgets"):
        engine.generate(["a"], [1, 2])
    with pytest.raises(ValueError, match="decoder"):
        TransformersEngine("offline:gemma-3-270m", decoder="beam")
    assert engine.generate([], []) == []
