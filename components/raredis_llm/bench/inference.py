"""Words/s of the ``raredis_llm_ner`` component under each engine and lever, on the same
sentences, against plain ``transformers`` greedy decoding (``model.generate``, batched).

For every lever the benchmark reports words/s, the ratio to the reference (keys with
``speedup``), and how many sentences get exactly the reference's entities
(``agreement``). Levers that are meant to change outputs (constrained decoding, int8) say
so, and the constrained default is also scored against the gold entities of a validation
sample, with and without the constraint.
"""

import gc
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import spacy
from spacy.tokens import Doc

from ..finetune.metrics import span_prf

logger = logging.getLogger(__name__)

COMPONENT = "raredis_llm_ner"
Ents = List[Tuple[int, int, str]]


@dataclass
class Lever:
    name: str
    description: str
    config: Dict[str, Any]
    #: meant to change outputs (reported as such, not as a failure to agree)
    alters_outputs: bool = False
    #: needs llama-cpp-python (the project's server extra)
    needs_llama_cpp: bool = False
    #: a served engine: started by the benchmark (llama.cpp server with the adapter)
    served: bool = False
    settings: Dict[str, Any] = field(default_factory=dict)


def engine(kind: str = "raredis.TransformersEngine.v1", **settings) -> Dict[str, Any]:
    return {"@misc": kind, **settings}


def default_levers(auto_dtype: str, batch_size: int = 32) -> List[Lever]:
    """The reference first, then each lever on top of the previous ones."""
    other = "float32" if auto_dtype == "bfloat16" else "bfloat16"
    fast = engine(decoder="fast")
    levers = [
        Lever("transformers (reference)", "plain model.generate, batched, greedy, transformers' sdpa attention",
              {"engine": engine(decoder="hf", attn_implementation="sdpa"), "constrain": False,
               "batch_size": batch_size}),
        Lever("fast decoder", "unpadded prefill reusing shared prefixes, finished rows leave the batch in groups, "
              "no per-head key/value copies (sdpa_gqa)",
              {"engine": fast, "constrain": False, "batch_size": batch_size}),
        Lever("fast + constrained", "answers may only copy the sentence and the tags; the output layer "
              "covers only those tokens (the component's default)",
              {"engine": fast, "constrain": True, "batch_size": batch_size}, alters_outputs=True),
        Lever(f"fast + constrained, {other}", f"as above in {other} (dtype auto chose {auto_dtype})",
              {"engine": fast, "constrain": True, "batch_size": batch_size, "dtype": other}, alters_outputs=True),
        Lever("fast + constrained, int8", "dynamic int8 linear layers (float32 model)",
              {"engine": engine(decoder="fast", quantize="int8"), "constrain": True, "batch_size": batch_size,
               "dtype": "float32"}, alters_outputs=True),
        Lever("llama.cpp", "in-process llama.cpp, Q4_K_M base + GGUF adapter, one sentence at a time",
              {"engine": engine("raredis.LlamaCppEngine.v1"), "constrain": False}, needs_llama_cpp=True),
        Lever("llama.cpp server, 8 in flight", "llama-cpp-python's OpenAI-compatible server with the adapter, "
              "8 requests in flight", {"engine": None, "constrain": False}, needs_llama_cpp=True, served=True),
    ]
    return levers


def _ents(docs: Sequence[Doc]) -> List[Ents]:
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]


def run_lever(pipeline: Path, lever: Lever, texts: Sequence[str], served_url: Optional[str] = None,
              log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Load the pipeline with the lever's settings, tag ``texts`` once (timed) and return
    the row: seconds, words/s, entities, tokens."""
    config = dict(lever.config)
    if lever.served:
        config["engine"] = engine("raredis.OpenAIEngine.v1", base_url=served_url, model="raredis",
                                  max_concurrency=8)
    nlp = spacy.load(pipeline, config={"components": {COMPONENT: config}})
    ner = nlp.get_pipe(COMPONENT)
    start = time.perf_counter()
    ner.load()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=len(texts)))
    seconds = time.perf_counter() - start
    words = sum(1 for doc in docs for t in doc if not t.is_space and not t.is_punct)
    tokens = sum(d.user_data.get("raredis_llm_usage", {}).get("completion_tokens", 0) for d in docs)
    row = {"lever": lever.name, "description": lever.description, "alters_outputs": lever.alters_outputs,
           "seconds": round(seconds, 2), "load_seconds": round(load_s, 1),
           "words_per_second": round(words / seconds, 2), "sentences_per_second": round(len(docs) / seconds, 3),
           "completion_tokens": tokens, "ents": _ents(docs)}
    engine_obj = ner.engine
    row["engine"] = {"kind": engine_obj.kind, **{k: getattr(engine_obj, k) for k in ("dtype_name", "decoder", "quantize")
                                                 if hasattr(engine_obj, k)}}
    log(f"{lever.name:>34}: {row['words_per_second']:8.1f} words/s ({seconds:.1f} s, {tokens} tokens)")
    ner.close()
    del nlp, ner, engine_obj
    gc.collect()
    return row


def compare(rows: List[Dict[str, Any]]) -> None:
    """Add ratio and agreement against the first row (the reference), in place."""
    ref = rows[0]
    for row in rows:
        row["speedup_vs_reference"] = round(ref["seconds"] / row["seconds"], 2) if row["seconds"] else None
        same = sum(a == b for a, b in zip(row["ents"], ref["ents"]))
        row["agreement"] = {"same_entities": same, "sentences": len(ref["ents"])}


def gold_ents(docs: Sequence[Doc]) -> List[Ents]:
    return _ents(docs)


def score_constraint_effect(pipeline: Path, gold_docs: Sequence[Doc], batch_size: int = 32,
                            log: Callable[[str], None] = print) -> Dict[str, Any]:
    """F1 against the gold entities of (validation) sentences, with and without the
    constraint, everything else as configured."""
    texts = [d.text for d in gold_docs]
    gold = _ents(gold_docs)
    out = {}
    for constrain in (False, True):
        lever = Lever(f"constrain={constrain}", "", {"constrain": constrain, "batch_size": batch_size})
        row = run_lever(pipeline, lever, texts, log=log)
        prf = span_prf(row["ents"], gold)
        out["constrained" if constrain else "free"] = {k: round(prf[k], 4) for k in ("p", "r", "f")}
    out["sentences"] = len(texts)
    return out


def run_prompting(pipeline: Path, texts: Sequence[str], log: Callable[[str], None] = print) -> List[Dict[str, Any]]:
    """The in-process prompting backend of an assembled strategy (``training/llm_<name>``),
    response cache off: plain ``model.generate`` (the reference), the fast decoder, and the
    fast decoder under the constraint."""
    rows = []
    reference = {"decoder": "hf", "constrain": False, "attn_implementation": "sdpa"}
    for name, model in [("transformers (reference)", reference),
                        ("fast decoder", {"decoder": "fast", "constrain": False}),
                        ("fast + constrained", {"decoder": "fast", "constrain": True})]:
        nlp = spacy.load(pipeline, config={"components": {"llm": {"model": dict(model, cache_dir=None)}}})
        start = time.perf_counter()
        docs = list(nlp.pipe(texts, batch_size=len(texts)))
        seconds = time.perf_counter() - start
        words = sum(1 for doc in docs for t in doc if not t.is_space and not t.is_punct)
        rows.append({"lever": name, "description": f"{pipeline.name}: {model}", "alters_outputs": model["constrain"],
                     "seconds": round(seconds, 2), "words_per_second": round(words / seconds, 2),
                     "ents": _ents(docs)})
        log(f"{pipeline.name:>20} {name:>26}: {rows[-1]['words_per_second']:8.1f} words/s ({seconds:.1f} s)")
        del nlp, docs
        gc.collect()
    compare(rows)
    return rows
