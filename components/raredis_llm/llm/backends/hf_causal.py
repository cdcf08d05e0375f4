"""``raredis.HFCausalLM.v1``: a causal LM run in-process with ``transformers``.

::

    [components.llm.model]
    @llm_models = "raredis.HFCausalLM.v1"
    name = "offline:gemma-3-270m"   # HF id (local cache only), folder, .gguf, or alias
    batch_size = 16
    max_new_tokens = null           # null: sized to the sentence (ner/budget.py)
    cache_dir = "cache/llm"

Generation is :class:`raredis_llm.models.transformers_engine.TransformersEngine`. The
model is loaded on the first prompt that is not in the response cache.
"""

from typing import List, Optional, Union

from spacy_llm.registry import registry

from ...models.loading import apply_chat_template
from ...models.transformers_engine import TransformersEngine
from .base import EngineBackend

ChatTemplate = Union[bool, str]


class HFCausalLM(EngineBackend):
    def __init__(self, engine: TransformersEngine, *, chat_template: ChatTemplate = False,
                 system_prompt: Optional[str] = None, **kwargs):
        if chat_template not in (True, False, "auto"):
            raise ValueError(f"chat_template must be true, false or \"auto\", got {chat_template!r}")
        if kwargs.get("context_length") is None:
            kwargs["context_length"] = engine.context_length
        super().__init__(engine, **kwargs)
        self.chat_template = chat_template
        self.system_prompt = system_prompt

    @property
    def loaded(self) -> bool:
        return self.engine.loaded

    def cache_settings(self, prompt):
        return dict(super().cache_settings(prompt), chat_template=self.chat_template,
                    system_prompt=self.system_prompt)

    def format_prompt(self, prompt) -> str:
        use = self.chat_template
        tokenizer = self.engine.tokenizer if use else None
        if use == "auto":
            use = bool(getattr(tokenizer, "chat_template", None))
        return apply_chat_template(tokenizer, str(prompt), self.system_prompt) if use else str(prompt)


@registry.llm_models("raredis.HFCausalLM.v1")
def make_hf_causal_lm_v1(
    name: str = "offline:gemma-3-270m",
    adapter: Optional[str] = None,
    merge_adapter: bool = True,
    batch_size: int = 16,
    max_new_tokens: Optional[int] = None,
    max_new_tokens_cap: int = 512,
    stop: Optional[List[str]] = None,
    device: str = "auto",
    dtype: str = "auto",
    decoder: str = "fast",
    constrain: bool = False,
    chat_template: ChatTemplate = False,
    system_prompt: Optional[str] = None,
    context_length: Optional[int] = None,
    cache_dir: Optional[str] = None,
    local_files_only: bool = True,
    threads: int = 0,
    attn_implementation: str = "sdpa_gqa",
) -> HFCausalLM:
    """A transformers causal LM (greedy decoding) as a spacy-llm model.

    name: HF id (local cache only unless local_files_only = false), local folder, .gguf
    file or "offline:gemma-3-270m". adapter: LoRA adapter folder (merged into the weights;
    merge_adapter is kept for old configs). batch_size: prompts per forward pass.
    max_new_tokens: fixed budget, or null to size it per prompt from the sentence it tags
    (ner/budget.py), at most max_new_tokens_cap. stop: stop strings. device / dtype: "auto"
    = CUDA + bf16 when available, else CPU with bf16 only where it is native. decoder:
    "fast" (shared-prefix reuse, small output layer under constraints) or "hf" (plain
    model.generate). constrain: answers may only copy the sentence and the format's tags.
    chat_template: wrap prompts as a user turn (true / "auto") or send them as plain
    completion prompts (false, for base models). context_length: tokens a prompt may use
    before spacy-llm shards a doc (default: the model's). cache_dir: response cache folder.
    threads: torch CPU threads (0: every usable core). attn_implementation: "sdpa_gqa" (no
    per-head key/value copies) or one of transformers' ("sdpa", "eager", ...).
    """
    engine = TransformersEngine(name, adapter, device=device, dtype=dtype, batch_size=batch_size, decoder=decoder,
                                threads=threads, local_files_only=local_files_only,
                                attn_implementation=attn_implementation)
    return HFCausalLM(engine, chat_template=chat_template, system_prompt=system_prompt,
                      max_new_tokens=max_new_tokens, max_new_tokens_cap=max_new_tokens_cap, stop=stop,
                      constrain=constrain, cache_dir=cache_dir, context_length=context_length)
