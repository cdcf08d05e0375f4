"""spacy-llm model backends for RareDis (registered in ``registry.llm_models``).

* ``raredis.OpenAIChat.v1`` (:mod:`.openai_chat`): any OpenAI-compatible server
  (llama.cpp, vLLM, Ollama, Azure OpenAI, OpenAI when asked for) via the ``openai`` SDK,
  with our own retry policy, bounded concurrency and token accounting.
* ``raredis.HFCausalLM.v1`` (:mod:`.hf_causal`): a transformers causal LM in-process
  (:mod:`raredis_llm.models.hf`), batched greedy generation.

Both return :class:`~raredis_llm.llm.response.Completion` strings (``.usage``,
``.cached``) and share the persistent response cache (:mod:`raredis_llm.llm.cache`,
setting ``cache_dir``), so an interrupted run resumes where it stopped.
"""

from raredis_llm.llm.backends.base import CachingBackend, LLMBackendError  # noqa: F401
from raredis_llm.llm.backends.hf_causal import HFCausalLM, make_hf_causal_lm_v1  # noqa: F401
from raredis_llm.llm.backends.openai_chat import OpenAIChat, make_openai_chat_v1  # noqa: F401
