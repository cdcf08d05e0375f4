"""``raredis.HFCausalLM.v1``: a causal LM run in-process with ``transformers``.

::

    [components.llm.model]
    @llm_models = "raredis.HFCausalLM.v1"
    name = "offline:gemma-3-270m"   # HF id (local cache only), folder, .gguf, or alias
    adapter = null                  # optional PEFT/LoRA adapter folder
    batch_size = 8
    max_new_tokens = null           # null: sized to the sentence (llm/budget.py), at most max_new_tokens_cap
    chat_template = false           # true for instruction-tuned models; "auto": if it has one
    cache_dir = "cache/llm"

Loading and generation are :mod:`raredis_llm.models.hf` (greedy, left-padded batches,
sorted by length, results in input order). The model is loaded on the first prompt
that is not in the response cache, so a fully cached rerun does not load it at all.
"""

import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from spacy_llm.registry import registry

from ...models import hf
from ..budget import answer_budget
from .base import CachingBackend

ChatTemplate = Union[bool, str]


class HFCausalLM(CachingBackend):
    def __init__(
        self,
        name: str = "offline:gemma-3-270m",
        adapter: Optional[str] = None,
        merge_adapter: bool = False,
        batch_size: int = 8,
        max_new_tokens: Optional[int] = None,
        max_new_tokens_cap: int = hf.DEFAULT_MAX_NEW_TOKENS_CAP,
        stop: Optional[Sequence[str]] = None,
        device: str = "auto",
        dtype: str = "auto",
        chat_template: ChatTemplate = False,
        system_prompt: Optional[str] = None,
        context_length: Optional[int] = None,
        cache_dir: Optional[str] = None,
        local_files_only: bool = True,
        progress: bool = False,
    ):
        if context_length is None:
            context_length = hf.context_length_of(name, local_files_only=local_files_only)
        super().__init__(cache_dir=cache_dir, context_length=context_length)
        if chat_template not in (True, False, "auto"):
            raise ValueError(f"chat_template must be true, false or \"auto\", got {chat_template!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.name = name
        self.adapter = adapter
        self.merge_adapter = merge_adapter
        self.batch_size = int(batch_size)
        self.max_new_tokens = max_new_tokens
        self.max_new_tokens_cap = int(max_new_tokens_cap)
        self.stop = list(stop) if stop else None
        self.device = hf.resolve_device(device)
        self.dtype = hf.resolve_dtype(dtype, self.device)
        self.chat_template = chat_template
        self.system_prompt = system_prompt
        self.local_files_only = local_files_only
        self.progress = progress
        self.model_id = "hf:" + hf.model_fingerprint(name, adapter)
        self._model = None
        self._tokenizer = None
        self._load_lock = threading.Lock()

    def cache_settings(self) -> Dict[str, Any]:
        return {
            "backend": "hf",
            "max_new_tokens": self.max_new_tokens,
            "max_new_tokens_cap": self.max_new_tokens_cap,
            "stop": self.stop,
            "chat_template": self.chat_template,
            "system_prompt": self.system_prompt,
            "dtype": str(self.dtype).replace("torch.", ""),
            "merge_adapter": self.merge_adapter,
        }

    def load(self):
        """Load (once) and return ``(model, tokenizer)``."""
        with self._load_lock:
            if self._model is None:
                self._model, self._tokenizer = hf.load_causal_lm(
                    self.name,
                    adapter=self.adapter,
                    device=self.device,
                    dtype=self.dtype,
                    merge_adapter=self.merge_adapter,
                    local_files_only=self.local_files_only,
                )
        return self._model, self._tokenizer

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def format_prompts(self, prompts: Sequence[str]) -> List[str]:
        _, tokenizer = self.load()
        use = self.chat_template
        if use == "auto":
            use = bool(getattr(tokenizer, "chat_template", None))
        if use:
            return hf.apply_chat_template(tokenizer, prompts, system=self.system_prompt)
        return list(prompts)

    def sizes_to_input(self) -> bool:
        return self.max_new_tokens is None

    def budgets(self, prompts: Sequence[str]) -> List[Optional[int]]:
        """Per prompt: a budget sized to its answer reference (budget.py), or None (the
        fixed ``max_new_tokens`` / the prompt-length default applies)."""
        if not self.sizes_to_input():
            return [None] * len(prompts)
        _, tokenizer = self.load()

        def count(text: str) -> int:
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])

        return [answer_budget(p, count, cap=self.max_new_tokens_cap) for p in prompts]

    def _complete(self, items: Sequence[Tuple[int, int, str]], on_done) -> None:
        model, tokenizer = self.load()
        budgets = self.budgets([prompt for _, _, prompt in items])
        texts = self.format_prompts([prompt for _, _, prompt in items])
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc=f"LLM {self.name}", unit="prompt")
        try:
            # Generate in chunks so answers reach the cache while a long batch is running.
            chunk = self.batch_size * 4
            for start in range(0, len(texts), chunk):
                outputs = hf.generate(
                    model,
                    tokenizer,
                    texts[start : start + chunk],
                    max_new_tokens=self.max_new_tokens,
                    batch_size=self.batch_size,
                    stop=self.stop,
                    max_new_tokens_cap=self.max_new_tokens_cap,
                    budgets=budgets[start : start + chunk],
                )
                for offset, completion in enumerate(outputs):
                    self._count("requests")
                    on_done(start + offset, completion)
                if bar is not None:
                    bar.update(len(outputs))
        finally:
            if bar is not None:
                bar.close()


@registry.llm_models("raredis.HFCausalLM.v1")
def make_hf_causal_lm_v1(
    name: str = "offline:gemma-3-270m",
    adapter: Optional[str] = None,
    merge_adapter: bool = False,
    batch_size: int = 8,
    max_new_tokens: Optional[int] = None,
    max_new_tokens_cap: int = hf.DEFAULT_MAX_NEW_TOKENS_CAP,
    stop: Optional[List[str]] = None,
    device: str = "auto",
    dtype: str = "auto",
    chat_template: ChatTemplate = False,
    system_prompt: Optional[str] = None,
    context_length: Optional[int] = None,
    cache_dir: Optional[str] = None,
    local_files_only: bool = True,
    progress: bool = False,
) -> HFCausalLM:
    """A transformers causal LM (greedy decoding) as a spacy-llm model.

    name: HF id (local cache only unless local_files_only = false), local folder, .gguf
    file or "offline:gemma-3-270m". adapter: PEFT adapter folder. batch_size: prompts
    per forward pass. max_new_tokens: fixed budget, or null to size it per prompt from
    the sentence being tagged (1.5 x its answer's tokens + 32, see llm/budget.py; prompts
    that do not say what they tag: 2 x prompt tokens + 20), at most max_new_tokens_cap. stop: stop strings. device / dtype:
    "auto" = CUDA + bf16 when available, else CPU + float32. chat_template: wrap prompts
    as a user turn (true / "auto") or send them as plain completion prompts (false, for
    base models). context_length: tokens a prompt may use before spacy-llm shards a doc
    (default: the model config's max_position_embeddings). cache_dir: response cache
    folder (None = off).
    """
    return HFCausalLM(
        name=name, adapter=adapter, merge_adapter=merge_adapter, batch_size=batch_size,
        max_new_tokens=max_new_tokens, max_new_tokens_cap=max_new_tokens_cap, stop=stop,
        device=device, dtype=dtype, chat_template=chat_template, system_prompt=system_prompt,
        context_length=context_length, cache_dir=cache_dir,
        local_files_only=local_files_only, progress=progress,
    )
