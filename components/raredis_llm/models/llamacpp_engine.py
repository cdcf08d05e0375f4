"""The in-process llama.cpp engine (``llama-cpp-python``) on a GGUF model.

One prompt at a time, greedy; llama.cpp keeps the key/value cache of the previous
prompt and reuses its longest common prefix, so a shared instruction is computed once.
A LoRA adapter is given as a GGUF adapter file (:mod:`.lora_gguf` writes one from a PEFT
adapter). Constraints are applied as a logits mask (the full output layer is still
computed). Needs the ``server`` extra (``pip install 'llama-cpp-python==0.3.36'``).
"""

import logging
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from ..util import file_sha256
from .completion import Completion
from .engine import Constraint, Engine, OnResult, check_requests, cut_at_stop
from .offline import resolve_gguf
from .precision import resolve_threads
from .vocabulary import AllowedTokens, token_surface

logger = logging.getLogger(__name__)


class LlamaCppEngine(Engine):
    kind = "llamacpp"
    supports_constraint = True

    def __init__(self, model: str = "offline:gemma-3-270m", lora: Optional[str] = None, *,
                 n_ctx: int = 4096, n_batch: int = 512, threads: int = 0, seed: int = 0,
                 log: Callable[[str], None] = logger.info):
        self.model = str(model)
        self.lora = str(lora) if lora else None
        self.n_ctx = int(n_ctx)
        self.n_batch = int(n_batch)
        self.threads = threads
        self.seed = int(seed)
        self.log = log
        self._llm = None
        self._allowed: Optional[AllowedTokens] = None
        self._lock = threading.Lock()
        self._id: Optional[str] = None

    def load(self):
        with self._lock:
            if self._llm is None:
                try:
                    from llama_cpp import Llama
                except ImportError as err:
                    raise ImportError("The llama.cpp engine needs llama-cpp-python: pip install "
                                      "'llama-cpp-python==0.3.36' (or the project's [server] extra)") from err
                threads = resolve_threads(self.threads)
                path = resolve_gguf(self.model)
                if self.lora and not Path(self.lora).is_file():
                    raise FileNotFoundError(f"GGUF LoRA adapter not found: {self.lora}")
                self._llm = Llama(str(path), lora_path=self.lora, n_ctx=self.n_ctx, n_batch=self.n_batch,
                                  n_threads=threads, n_threads_batch=threads, seed=self.seed, verbose=False)
                self.log(f"llama.cpp: {path.name}" + (f" + {Path(self.lora).name}" if self.lora else "")
                         + f", {threads} threads")
        return self._llm

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
            self._llm = None

    @property
    def model_id(self) -> str:
        if self._id is None:
            path = resolve_gguf(self.model)
            parts = [f"gguf:{path.name}"]
            if self.lora:
                parts.append(f"lora={file_sha256(self.lora)[:16]}")
            self._id = "|".join(parts)
        return self._id

    def settings(self) -> Dict[str, Any]:
        return {"engine": self.kind}

    @property
    def context_length(self) -> Optional[int]:
        return self.n_ctx

    def count_tokens(self, text: str) -> int:
        return len(self.load().tokenize(text.encode("utf8"), add_bos=False, special=False))

    def _eog(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self.load()._model.vocab, token))

    def allowed_ids(self, constraint: Constraint) -> List[int]:
        if self._allowed is None:
            import llama_cpp

            llm = self.load()
            vocab = llm._model.vocab
            n = llama_cpp.llama_vocab_n_tokens(vocab)
            pieces = [llama_cpp.llama_token_get_text(vocab, i).decode("utf8", "replace") for i in range(n)]
            self._allowed = AllowedTokens([token_surface(p) for p in pieces],
                                          always=[i for i in range(n) if self._eog(i)])
        return self._allowed.ids(constraint)

    def generate(self, prompts: Sequence[str], max_new_tokens: Sequence[int], stop: Sequence[str] = (),
                 constraints: Optional[Sequence[Optional[Constraint]]] = None,
                 on_result: Optional[OnResult] = None) -> List[Completion]:
        constraints = check_requests(prompts, max_new_tokens, constraints)
        llm = self.load()
        stop = [s for s in stop if s]
        out: List[Completion] = []
        for i, prompt in enumerate(prompts):
            completion = self._one(llm, str(prompt), max(1, int(max_new_tokens[i])), stop, constraints[i])
            out.append(completion)
            if on_result is not None:
                on_result(i, completion)
        return out

    def _one(self, llm, prompt: str, budget: int, stop: Sequence[str], constraint: Optional[Constraint]) -> Completion:
        bos = llm.detokenize([llm.token_bos()], special=True).decode("utf8", "replace")
        tokens = llm.tokenize(prompt.encode("utf8"), add_bos=not (bos and prompt.startswith(bos)), special=True)
        processors = None
        if constraint is not None:
            import numpy as np
            from llama_cpp import LogitsProcessorList

            allowed = np.array(self.allowed_ids(constraint), dtype=np.int64)

            def mask(_ids, scores):
                keep = scores[allowed].copy()
                scores[:] = -np.inf
                scores[allowed] = keep
                return scores

            processors = LogitsProcessorList([mask])
        generated: List[int] = []
        finish = "length"
        for token in llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0,
                                  reset=True, logits_processor=processors):
            if self._eog(token):
                finish = "stop"
                break
            generated.append(token)
            if stop and any(s in llm.detokenize(generated[-8:]).decode("utf8", "replace") for s in stop):
                finish = "stop"
                break
            if len(generated) >= budget:
                break
        text = llm.detokenize(generated).decode("utf8", "replace")
        text, hit = cut_at_stop(text, stop)
        n_generated = len(generated) + (1 if finish == "stop" and not hit else 0)
        return Completion(text, usage={"prompt_tokens": len(tokens), "completion_tokens": n_generated},
                          meta={"finish_reason": "stop" if hit else finish})
