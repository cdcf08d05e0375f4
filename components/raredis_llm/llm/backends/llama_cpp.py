"""``raredis.LlamaCpp.v1``: a GGUF model run in-process by llama.cpp, as a spacy-llm model.

::

    [components.llm.model]
    @llm_models = "raredis.LlamaCpp.v1"
    model = "offline:gemma-3-270m"   # or a .gguf file
    cache_dir = "cache/llm"

Generation is :class:`raredis_llm.models.llamacpp_engine.LlamaCppEngine` (needs
``llama-cpp-python``, the project's ``server`` extra).
"""

from typing import List, Optional

from spacy_llm.registry import registry

from ...models.llamacpp_engine import LlamaCppEngine
from .base import EngineBackend


@registry.llm_models("raredis.LlamaCpp.v1")
def make_llama_cpp_v1(
    model: str = "offline:gemma-3-270m",
    lora: Optional[str] = None,
    max_new_tokens: Optional[int] = None,
    max_new_tokens_cap: int = 512,
    stop: Optional[List[str]] = None,
    constrain: bool = False,
    n_ctx: int = 4096,
    threads: int = 0,
    context_length: Optional[int] = None,
    cache_dir: Optional[str] = None,
) -> EngineBackend:
    """llama.cpp on a GGUF file (or "offline:gemma-3-270m"), optional GGUF LoRA adapter.
    max_new_tokens: fixed budget or null (sized to the sentence, at most max_new_tokens_cap).
    constrain: answers may only copy the sentence and the format's tags (a logits mask).
    n_ctx: llama.cpp context size. threads: CPU threads (0: every usable core)."""
    engine = LlamaCppEngine(model, lora, n_ctx=n_ctx, threads=threads)
    return EngineBackend(engine, max_new_tokens=max_new_tokens, max_new_tokens_cap=max_new_tokens_cap, stop=stop,
                         constrain=constrain, cache_dir=cache_dir, context_length=context_length or n_ctx)
