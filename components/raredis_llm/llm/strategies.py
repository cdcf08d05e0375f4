"""The prompting strategies (``configs/llm_<strategy>.cfg``) and their backends.

Each strategy config runs the in-process ``transformers`` backend. The same strategy on
another backend is the same config with its ``[components.llm.model]`` section replaced
by ``templates/backends/<backend>.cfg`` at run time: an OpenAI-compatible server
(``openai``) or in-process llama.cpp (``llamacpp``). There is one file per strategy.
The knowledge-base strategies (``KB_STRATEGIES``) need the knowledge base and its index
(``spacy project run knowledge knowledge-index``), so ``all`` includes them only on request;
so it does ``EXTRA_STRATEGIES``.
"""

import inspect
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from confection import Config

from ..util import bundled_path

#: The strategies of the papers, in report order (configs/llm_<name>.cfg).
STRATEGIES = ("zeroshot", "fewshot_random", "fewshot_knn", "fewshot_cluster", "rag", "rag_knn", "spacy_ner_v3",
              "rag_kb", "rag_kb_knn")
#: Strategies that read the knowledge base (``paths.kb``; knowledge/ and its embedding index).
KB_STRATEGIES = ("rag_kb", "rag_kb_knn")
#: Run by name only (``spacy project run llm-extra``), not by 'all': the longest prompts
#: (chunks and examples, ~1,700 tokens) and spacy-llm's own NER task; together they cost
#: as much as the papers' strategies on a CPU.
EXTRA_STRATEGIES = ("rag_knn", "spacy_ner_v3")
BACKENDS = ("hf", "openai", "llamacpp")


def config_path(configs_dir: Union[str, Path], strategy: str) -> Path:
    path = Path(configs_dir) / f"llm_{strategy}.cfg"
    if not path.exists():
        known = sorted(p.stem[4:] for p in Path(configs_dir).glob("llm_*.cfg"))
        raise FileNotFoundError(f"No config for strategy {strategy!r} ({path}); known: {known}")
    return path


def strategy_config(configs_dir: Union[str, Path], strategy: str, backend: str = "hf",
                    model: Optional[Dict[str, Any]] = None) -> Config:
    """The strategy's config on ``backend``; ``model`` overrides settings of its model section."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    config = Config().from_disk(config_path(configs_dir, strategy), interpolate=False)
    if "model" not in config.get("components", {}).get("llm", {}):
        raise ValueError(f"{config_path(configs_dir, strategy)} has no [components.llm.model] section")
    section = dict(config["components"]["llm"]["model"])
    if backend != "hf":
        text = bundled_path("backends", f"{backend}.cfg").read_text(encoding="utf8")
        template = Config().from_str("[components]\n\n[components.llm]\n\n" + text, interpolate=False)
        new = dict(template["components"]["llm"]["model"])
        for key in ("stop",):  # what the strategy decided stays
            if key in section and key in new:
                new[key] = section[key]
        section = new
    section.update(model or {})
    config["components"]["llm"]["model"] = section
    return config


def available(configs_dir: Union[str, Path], knowledge: bool = False, extra: bool = False) -> List[str]:
    """Strategies with a config in ``configs_dir``: the papers' first, then any others; the
    knowledge-base strategies only with ``knowledge``, the extra ones only with ``extra``."""
    found = sorted(p.stem[4:] for p in Path(configs_dir).glob("llm_*.cfg")
                   if "[components.llm.model]" in p.read_text(encoding="utf8"))
    if not knowledge:
        found = [s for s in found if s not in KB_STRATEGIES]
    if not extra:
        found = [s for s in found if s not in EXTRA_STRATEGIES]
    return [s for s in STRATEGIES if s in found] + [s for s in found if s not in STRATEGIES]


def takes_setting(config: Config, dotted: str) -> bool:
    """Whether the grid-wide override ``dotted`` (e.g. ``components.llm.task.examples.k``)
    applies to this strategy's config: its section is there and either sets the key or is
    built by a registered function that takes it. A shared flag such as
    ``examples.n_clusters`` thus reaches the cluster strategy and skips the others."""
    *parts, key = dotted.split(".")
    node: Any = config
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    if not isinstance(node, dict):
        return False
    if key in node:
        return True
    ref = next((k for k in node if k.startswith("@")), None)
    if ref is None:
        return False
    from spacy.util import registry

    func = registry.get(ref[1:], node[ref])
    params = inspect.signature(func).parameters
    return key in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
