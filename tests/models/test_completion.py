"""Completion: the str subclass every engine returns, and the usage a Doc sums from it."""

import pickle

from raredis_llm.models.completion import Completion
from raredis_llm.ner.stats import add_usage, empty_usage


def test_completion_is_a_str_with_usage():
    c = Completion("<SIGN>fever</SIGN>", usage={"prompt_tokens": 10, "completion_tokens": "3", "total_tokens": 13})
    assert isinstance(c, str) and c == "<SIGN>fever</SIGN>" and c.startswith("<SIGN>")
    assert c.usage == {"prompt_tokens": 10, "completion_tokens": 3} and c.total_tokens == 13
    assert not c.cached and c.with_cached().cached and c.with_cached() == c
    assert "fever" in repr(c)


def test_defaults_and_none():
    c = Completion(None)
    assert c == "" and c.usage == {"prompt_tokens": 0, "completion_tokens": 0}


def test_pickle_keeps_fields():
    c = Completion("x", usage={"prompt_tokens": 1, "completion_tokens": 2}, cached=True, meta={"finish_reason": "stop"})
    d = pickle.loads(pickle.dumps(c))
    assert d == "x" and d.usage == c.usage and d.cached and d.meta == {"finish_reason": "stop"}


def test_usage_adds_up_answers():
    items = [Completion("a", {"prompt_tokens": 2, "completion_tokens": 1}), "plain",
             Completion("b", {"prompt_tokens": 3, "completion_tokens": 4}, cached=True)]
    assert add_usage(empty_usage(), items) == {"prompt_tokens": 5, "completion_tokens": 5, "requests": 3,
                                               "cache_hits": 1}
