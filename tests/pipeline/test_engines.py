"""raredis_llm_ner on each engine with a real (randomly initialised, non-zero) LoRA adapter:
in-process transformers, in-process llama.cpp on the GGUF base + the converted adapter, and
the same served by llama.cpp's OpenAI-compatible server on 127.0.0.1."""

import pytest
import spacy

from raredis_llm.models.llama_server import check_installed, free_port, running_server

pytestmark = pytest.mark.slow

TEXTS = ["Fabry disease causes burning pain in the hands.", "Patients with Marfan syndrome are tall.",
         "Seizures and ataxia were seen."]


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    """A saved pipeline whose adapter changes the model (LoRA A and B both random)."""
    from peft import LoraConfig, get_peft_model

    from raredis_llm.models.loading import load_causal_lm
    from raredis_llm.ner.finetuned import ADAPTER_INFO, FinetunePrompt, adapter_info
    from raredis_llm.util import write_json

    import torch

    tmp = tmp_path_factory.mktemp("engines")
    torch.manual_seed(0)
    base, _ = load_causal_lm("offline:gemma-3-270m", device="cpu", dtype="float32")
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(tmp / "adapter")
    write_json(adapter_info(FinetunePrompt("lines"), "offline:gemma-3-270m", {"r": 4}), tmp / "adapter" / ADAPTER_INFO)
    nlp = spacy.blank("en")
    nlp.add_pipe("raredis_llm_ner", config={"adapter": str(tmp / "adapter"), "max_new_tokens_cap": 8,
                                            "constrain": False})
    nlp.to_disk(tmp / "pipeline")
    return tmp / "pipeline"


def _tag(pipeline_dir, engine, **config):
    nlp = spacy.load(pipeline_dir, config={"components": {"raredis_llm_ner": dict(engine=engine, **config)}})
    docs = list(nlp.pipe(TEXTS))
    answers = [d.user_data["raredis_llm_usage"]["completion_tokens"] for d in docs]
    nlp.get_pipe("raredis_llm_ner").close()
    return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs], answers


def test_llamacpp_in_process_and_served_give_the_same_entities(pipeline_dir):
    try:
        check_installed()
    except ImportError as err:  # CI installs the server extra: a missing one is a failure
        pytest.fail(str(err), pytrace=False)
    gguf = pipeline_dir / "raredis_llm_ner" / "adapter" / "adapter.gguf"
    assert gguf.exists()
    local = _tag(pipeline_dir, {"@misc": "raredis.LlamaCppEngine.v1", "threads": 1})
    with running_server(lora=gguf, port=free_port(), n_ctx=2048, n_threads=1) as url:
        served = _tag(pipeline_dir, {"@misc": "raredis.OpenAIEngine.v1", "base_url": url, "model": "raredis",
                                     "max_concurrency": 3})
    assert served == local
    assert sum(local[1]) > 0


def test_converted_adapter_acts_in_llamacpp_as_in_transformers(pipeline_dir):
    """The GGUF adapter moves llama.cpp's next-token logits the way the PEFT adapter moves
    transformers' (same weights up to llama.cpp's quantized arithmetic)."""
    import numpy as np
    import torch

    from raredis_llm.models.llamacpp_engine import LlamaCppEngine
    from raredis_llm.models.transformers_engine import TransformersEngine

    adapter = pipeline_dir / "raredis_llm_ner" / "adapter"
    prompt = "Text: Fabry disease causes burning pain in the hands.\nAnswer:"

    def hf_logits(adapter_dir):
        engine = TransformersEngine("offline:gemma-3-270m", adapter_dir, dtype="float32", threads=1)
        model, _ = engine.load()
        with torch.inference_mode():
            return model(torch.tensor([engine.encode(prompt)])).logits[0, -1].float().numpy()

    def cpp_logits(lora):
        llm = LlamaCppEngine(lora=lora, threads=1).load()
        tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        llm.reset()
        llm.eval(tokens)  # the last token's logits stay in the context
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()

    hf, hf_base = hf_logits(str(adapter)), hf_logits(None)
    cpp, cpp_base = cpp_logits(str(adapter / "adapter.gguf")), cpp_logits(None)
    corr = lambda a, b: float(np.corrcoef(a, b)[0, 1])  # noqa: E731
    assert corr(hf, hf_base) < 0.9  # the (strong, random) adapter changes the model a lot
    assert corr(cpp_base, hf_base) > 0.99
    # llama.cpp with the GGUF adapter follows transformers with the adapter, not the base
    assert corr(cpp, hf) > 0.9 and corr(cpp, hf) > corr(cpp, hf_base) + 0.2
