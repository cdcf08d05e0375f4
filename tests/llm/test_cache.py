"""The persistent response cache: keys, round trips, counters, concurrent writers."""

import json
import multiprocessing
import threading

import pytest

from raredis_llm.llm.cache import ResponseCache, make_key, open_cache
from raredis_llm.models.completion import Completion

SETTINGS = {"temperature": 0.0, "max_tokens": 64, "stop": ["\n"]}


def test_key_changes_with_model_prompt_and_settings():
    base = make_key("openai:m", "Text: a\nAnswer:", SETTINGS)
    assert len(base) == 64 and base == make_key("openai:m", "Text: a\nAnswer:", dict(SETTINGS))
    assert base != make_key("openai:other", "Text: a\nAnswer:", SETTINGS)
    assert base != make_key("openai:m", "Text: a\nAnswer: ", SETTINGS)  # one trailing space
    assert base != make_key("openai:m", "Text: a\nAnswer:", {**SETTINGS, "max_tokens": 65})
    assert base != make_key("openai:m", "Text: a\nAnswer:", {**SETTINGS, "stop": ["\n\n"]})
    assert base != make_key("openai:m", "Text: a\nAnswer:", {})


def test_key_ignores_settings_order():
    a = make_key("m", "p", {"a": 1, "b": {"x": 1, "y": [1, 2]}})
    b = make_key("m", "p", {"b": {"y": (1, 2), "x": 1}, "a": 1})
    assert a == b


def test_not_spacy_llms_token_sum_key():
    # spacy-llm's own cache keys docs by a sum of token ids: these two collide there.
    assert make_key("m", "ab ba", {}) != make_key("m", "ba ab", {})


def test_round_trip_counters_and_layout(tmp_path):
    cache = ResponseCache(tmp_path / "c")
    key = make_key("m", "prompt", SETTINGS)
    assert cache.get(key) is None
    cache.put(key, Completion("answer", usage={"prompt_tokens": 5, "completion_tokens": 2}),
              model_id="m", prompt="prompt", settings=SETTINGS)
    out = cache.get(key)
    assert out == "answer" and out.cached and out.usage == {"prompt_tokens": 5, "completion_tokens": 2}
    assert cache.stats() == {"hits": 1, "misses": 1, "writes": 1}
    assert key in cache and len(cache) == 1
    entry = json.loads((tmp_path / "c" / key[:2] / f"{key}.json").read_text())
    assert entry["prompt"] == "prompt" and entry["model"] == "m" and entry["settings"]["max_tokens"] == 64
    # a new instance on the same folder (a rerun) sees it
    assert ResponseCache(tmp_path / "c").get(key) == "answer"


def test_plain_string_and_empty_answer(tmp_path):
    cache = ResponseCache(tmp_path)
    key = make_key("m", "p", {})
    cache.put(key, "")
    out = cache.get(key)
    assert out == "" and out.cached and out.usage == {"prompt_tokens": 0, "completion_tokens": 0}


def test_corrupt_entry_is_a_miss_and_gets_overwritten(tmp_path):
    cache = ResponseCache(tmp_path)
    key = make_key("m", "p", {})
    path = tmp_path / key[:2] / f"{key}.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"text": "trunc')
    assert cache.get(key) is None
    cache.put(key, "fixed")
    assert cache.get(key) == "fixed"


def test_rejects_non_keys(tmp_path):
    with pytest.raises(ValueError):
        ResponseCache(tmp_path).get("../../etc/passwd")


def test_open_cache_off():
    assert open_cache(None) is None and open_cache("") is None


def test_concurrent_threads(tmp_path):
    cache = ResponseCache(tmp_path)
    keys = [make_key("m", f"prompt {i}", {}) for i in range(40)]
    shared = make_key("m", "same prompt", {})
    errors = []

    def worker(w):
        try:
            for i, key in enumerate(keys):
                if i % 4 == w % 4:
                    cache.put(key, Completion(f"answer {i}"))
                cache.put(shared, Completion(f"writer {w}"))
                cache.get(shared)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [cache.get(k) for k in keys] == [f"answer {i}" for i in range(40)]
    assert cache.get(shared) in {f"writer {w}" for w in range(8)}
    stats = cache.stats()
    assert stats["writes"] == 8 * 40 + 80 and stats["misses"] == 0
    assert stats["hits"] == 8 * 40 + 41
    assert not list(tmp_path.glob("*/*.tmp"))  # no temp files left behind


def _process_writer(args):
    folder, w = args
    cache = ResponseCache(folder)
    key = make_key("m", "shared", {})
    for i in range(30):
        cache.put(key, Completion(f"process {w} write {i}" + "x" * 2000))
        got = cache.get(key)
        assert got is not None and got.startswith("process ")  # never half-written
    return cache.stats()["writes"]


def test_concurrent_processes(tmp_path):
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ctx.Pool(3) as pool:
        writes = pool.map(_process_writer, [(str(tmp_path), w) for w in range(3)])
    assert writes == [30, 30, 30]
    assert ResponseCache(tmp_path).get(make_key("m", "shared", {})).endswith("x" * 2000)
