"""A persistent response cache shared by the RareDis LLM backends.

Every response a backend gets from a model is written to disk the moment it arrives,
under a key that is the sha256 of ``(model id, full prompt, generation settings)``.
A run that dies half way (server outage, Ctrl-C, a doc that keeps failing) therefore
keeps everything it finished, and rerunning the same command only sends the prompts
that have no stored answer yet. Changing the prompt template, the examples, the model
or any generation setting changes the key, so stale answers are never reused.

This replaces spacy-llm's own ``cache`` (keyed by a sum of token ids per doc, which
ignores the prompt and the model) for the RareDis backends; leave that one off.

Layout: ``<cache_dir>/<key[:2]>/<key>.json``, one small JSON file per response, each
holding the text, token usage, model id, settings and prompt (for inspection). Writes go
to a temporary file in the same folder followed by ``os.replace``, so concurrent
writers (threads or processes) never leave a half-written entry; an unreadable entry is
treated as a miss and overwritten.
"""

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from ..models.completion import Completion

logger = logging.getLogger(__name__)

#: Bump when the key recipe changes, so old entries are ignored rather than misread.
KEY_VERSION = 2


def _canonical(value: Any) -> Any:
    """JSON-able, order-independent form of settings (tuples -> lists, sorted dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def make_key(model_id: str, prompt: str, settings: Optional[Mapping[str, Any]] = None) -> str:
    """sha256 hex digest of the model id, the full prompt and the generation settings."""
    payload = {
        "v": KEY_VERSION,
        "model": str(model_id),
        "prompt": str(prompt),
        "settings": _canonical(dict(settings or {})),
    }
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class ResponseCache:
    """Directory of JSON responses keyed by :func:`make_key`; thread-safe.

    ``hits``, ``misses`` and ``writes`` count this instance's lookups and stores.
    """

    def __init__(self, path: Union[str, Path], store_prompts: bool = True):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.store_prompts = store_prompts
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.writes = 0

    # keys -------------------------------------------------------------------------
    make_key = staticmethod(make_key)

    def _file(self, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"Not a cache key (expected a sha256 hex digest): {key!r}")
        return self.path / key[:2] / f"{key}.json"

    # reading ------------------------------------------------------------------------
    def get(self, key: str) -> Optional[Completion]:
        """The stored completion (``cached=True``) or None; counts a hit or a miss."""
        entry = self._read(key)
        with self._lock:
            if entry is None:
                self.misses += 1
            else:
                self.hits += 1
        if entry is None:
            return None
        meta = {"finish_reason": entry.get("finish_reason")} if entry.get("finish_reason") else {}
        return Completion(entry["text"], usage=entry.get("usage"), cached=True, meta=meta)

    def lookup(self, model_id: str, prompt: str, settings: Optional[Mapping[str, Any]] = None):
        """``(key, completion or None)`` for a prompt."""
        key = make_key(model_id, prompt, settings)
        return key, self.get(key)

    def __contains__(self, key: str) -> bool:
        return self._read(key) is not None

    def _read(self, key: str) -> Optional[Dict[str, Any]]:
        path = self._file(key)
        try:
            with open(path, "r", encoding="utf8") as fh:
                entry = json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            logger.warning("Ignoring unreadable cache entry %s (%s)", path, err)
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            logger.warning("Ignoring malformed cache entry %s", path)
            return None
        return entry

    # writing --------------------------------------------------------------------------
    def put(
        self,
        key: str,
        completion: str,
        model_id: Optional[str] = None,
        prompt: Optional[str] = None,
        settings: Optional[Mapping[str, Any]] = None,
    ) -> None:
        """Store ``completion`` under ``key`` atomically (temp file + rename)."""
        path = self._file(key)
        entry: Dict[str, Any] = {
            "key": key,
            "text": str.__str__(completion),
            "usage": dict(getattr(completion, "usage", None) or {}),
            "finish_reason": (getattr(completion, "meta", None) or {}).get("finish_reason"),
            "model": model_id,
            "settings": _canonical(dict(settings or {})),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        if self.store_prompts and prompt is not None:
            entry["prompt"] = prompt
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:12]}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf8") as fh:
                json.dump(entry, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        with self._lock:
            self.writes += 1

    # accounting -----------------------------------------------------------------------
    def stats(self) -> Dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "writes": self.writes}

    def __len__(self) -> int:
        return sum(1 for _ in self.path.glob("??/*.json"))

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r}, {self.stats()})"


def open_cache(cache_dir: Optional[Union[str, Path]]) -> Optional[ResponseCache]:
    """``None`` (caching off) for an empty setting, else a :class:`ResponseCache`."""
    if cache_dir is None or str(cache_dir).strip() in ("", "null", "None"):
        return None
    return ResponseCache(cache_dir)
