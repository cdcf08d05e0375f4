"""spacy-llm model backends for RareDis (registered in ``registry.llm_models``), each an
engine of :mod:`raredis_llm.models` behind :class:`.base.EngineBackend` (response cache,
budgets, constraints, accounting):

* ``raredis.HFCausalLM.v1`` (:mod:`.hf_causal`): ``transformers`` in-process;
* ``raredis.LlamaCpp.v1`` (:mod:`.llama_cpp`): llama.cpp in-process on a GGUF model;
* ``raredis.OpenAIChat.v1`` (:mod:`.openai_chat`): any OpenAI-compatible server.
"""

from raredis_llm.llm.backends.base import EngineBackend, LLMBackendError  # noqa: F401
from raredis_llm.llm.backends.hf_causal import HFCausalLM, make_hf_causal_lm_v1  # noqa: F401
from raredis_llm.llm.backends.llama_cpp import make_llama_cpp_v1  # noqa: F401
from raredis_llm.llm.backends.openai_chat import OpenAIChat, make_openai_chat_v1  # noqa: F401
