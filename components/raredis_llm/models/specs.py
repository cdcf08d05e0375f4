"""Registered engine choices for components (``[components.raredis_llm_ner.engine]``).

Each function returns an :class:`EngineSpec`: the engine's own settings, completed by
the component's model settings (base model, adapter, device, dtype, batch size) when the
model is first needed::

    [components.raredis_llm_ner.engine]
    @misc = "raredis.TransformersEngine.v1"   # or raredis.LlamaCppEngine.v1 / raredis.OpenAIEngine.v1
"""

from pathlib import Path
from typing import Any, Callable, Dict, Optional

from spacy.util import registry

from .engine import Engine

Builder = Callable[..., Engine]


class EngineSpec:
    """How to build an engine once the component knows which model to run."""

    def __init__(self, kind: str, build: Builder, settings: Dict[str, Any]):
        self.kind = kind
        self._build = build
        self.settings = dict(settings)

    def build(self, *, base_model: str, adapter: Optional[str], device: str, dtype: str, batch_size: int,
              local_files_only: bool) -> Engine:
        return self._build(base_model=base_model, adapter=adapter, device=device, dtype=dtype,
                           batch_size=batch_size, local_files_only=local_files_only, **self.settings)

    def __repr__(self) -> str:
        return f"EngineSpec({self.kind}, {self.settings})"


def _transformers(*, base_model, adapter, device, dtype, batch_size, local_files_only, **settings) -> Engine:
    from .transformers_engine import TransformersEngine

    return TransformersEngine(base_model, adapter, device=device, dtype=dtype, batch_size=batch_size,
                              local_files_only=local_files_only, **settings)


def _llamacpp(*, base_model, adapter, device, dtype, batch_size, local_files_only, gguf=None, **settings) -> Engine:
    from .llamacpp_engine import LlamaCppEngine
    from .lora_gguf import adapter_gguf
    from .offline import resolve_model

    lora = None
    if adapter is not None:
        lora = Path(adapter) / "adapter.gguf"
        if not lora.exists():  # convert once: needs the base model's config.json
            lora = adapter_gguf(adapter, resolve_model(base_model))
    return LlamaCppEngine(gguf or base_model, str(lora) if lora else None, **settings)


def _openai(*, base_model, adapter, device, dtype, batch_size, local_files_only, **settings) -> Engine:
    from .openai_engine import OpenAIEngine

    return OpenAIEngine(**settings)


@registry.misc("raredis.TransformersEngine.v1")
def make_transformers_engine(decoder: str = "fast", reuse_prefix: bool = True, quantize: Optional[str] = None,
                             threads: int = 0, attn_implementation: str = "sdpa_gqa") -> EngineSpec:
    """In-process ``transformers`` (CUDA and the reference). decoder: "fast" (shared-prefix
    reuse, small output layer under constraints) or "hf" (plain model.generate).
    quantize: null or "int8" (dynamic int8 linear layers, float32 CPU). threads: 0 = all
    usable cores. attn_implementation: "sdpa_gqa" (no per-head key/value copies,
    models/attention.py) or any of transformers' ("sdpa", "eager", ...)."""
    return EngineSpec("transformers", _transformers,
                      {"decoder": decoder, "reuse_prefix": reuse_prefix, "quantize": quantize, "threads": threads,
                       "attn_implementation": attn_implementation})


@registry.misc("raredis.LlamaCppEngine.v1")
def make_llamacpp_engine(gguf: Optional[str] = None, n_ctx: int = 4096, threads: int = 0) -> EngineSpec:
    """In-process llama.cpp. gguf: the base model's GGUF file (null: the offline Gemma's, or
    the base model when it is a .gguf). The LoRA adapter is used as ``adapter.gguf`` in
    the adapter folder (written from the PEFT files when missing)."""
    return EngineSpec("llamacpp", _llamacpp, {"gguf": gguf, "n_ctx": n_ctx, "threads": threads})


@registry.misc("raredis.OpenAIEngine.v1")
def make_openai_engine(base_url: str, model: str = "raredis", endpoint: str = "completions",
                       max_concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5,
                       api_key_env: str = "OPENAI_API_KEY") -> EngineSpec:
    """An OpenAI-compatible server that serves the base model with the adapter (vLLM
    ``--enable-lora --lora-modules raredis=<adapter>``; llama.cpp ``--lora adapter.gguf``).
    model: the served name; max_concurrency: requests in flight."""
    return EngineSpec("openai", _openai, {"name": model, "base_url": base_url, "endpoint": endpoint,
                                          "max_concurrency": max_concurrency, "timeout": timeout,
                                          "max_retries": max_retries, "api_key_env": api_key_env})
