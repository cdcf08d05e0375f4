"""One config per prompting strategy x backend, without keeping two copies by hand.

``configs/llm_<strategy>.cfg`` run the in-process ``raredis.HFCausalLM.v1`` backend.
Their OpenAI-compatible twins in ``configs/openai/`` are the same file with the
``[components.llm.model]`` section replaced by ``templates/backends/openai.cfg`` and a
header saying so; ``scripts/make_backend_configs.py`` writes them and
``tests/llm/test_backend_configs.py`` fails when they are out of date.
"""

import re
from importlib import resources
from pathlib import Path
from typing import Dict, Union

MODEL_SECTION = "[components.llm.model]"
_SECTION = re.compile(r"^\[[^\]]+\]\s*$", re.MULTILINE)

HEADER = """# GENERATED from configs/{source} by scripts/make_backend_configs.py: edit that file
# (or templates/backends/{backend}.cfg) and rerun the script, not this one.
#
{strategy}
#
# Backend: an OpenAI-compatible server (raredis.OpenAIChat.v1 via the openai SDK):
# llama.cpp, vLLM, Ollama, Azure OpenAI or OpenAI itself.
#
#   python -m llama_cpp.server --model <gemma .gguf> --port 8080     (or any server)
#   python -m spacy assemble configs/{backend}/{source} training/{backend}_{stem}
#   python scripts/evaluate.py training/{backend}_{stem} corpus/test.spacy --system {backend}_{stem} -o metrics/{backend}_{stem}.json
#   (spacy project run llm-openai does all strategies, starting a local llama.cpp server)
#
# Other servers: --components.llm.model.base_url URL --components.llm.model.name MODEL
#   --components.llm.model.endpoint chat (chat/instruction models)
# OpenAI: --components.llm.model.base_url null --components.llm.model.use_openai true
#   --components.llm.model.name gpt-4o --components.llm.model.endpoint chat  (key in $OPENAI_API_KEY)

"""


def backend_section(backend: str) -> str:
    path = resources.files("raredis_llm") / "templates" / "backends" / f"{backend}.cfg"
    return path.read_text(encoding="utf8").strip() + "\n"


def strategy_lines(config_text: str) -> str:
    """The source config's first comment paragraph (what the strategy is)."""
    lines = []
    for line in config_text.lstrip().splitlines():
        if not line.startswith("#") or not line.strip("# "):
            break
        lines.append(line)
    return "\n".join(lines) or "# RareDis NER"


def with_backend(config_text: str, source_name: str, backend: str = "openai") -> str:
    """``config_text`` with its model section replaced by ``backend``'s, under a new header."""
    starts = [m.start() for m in _SECTION.finditer(config_text)]
    try:
        begin = config_text.index("\n" + MODEL_SECTION) + 1
    except ValueError:
        raise ValueError(f"{source_name} has no {MODEL_SECTION} section") from None
    end = next((s for s in starts if s > begin), len(config_text))
    first_section = starts[0]
    body = config_text[first_section:begin] + backend_section(backend) + "\n" + config_text[end:]
    stem = Path(source_name).stem
    header = HEADER.format(source=source_name, backend=backend, stem=stem, strategy=strategy_lines(config_text))
    return header + body.rstrip("\n") + "\n"


def generate(configs_dir: Union[str, Path], backend: str = "openai") -> Dict[Path, str]:
    """``{target path: text}`` for every ``llm_*.cfg`` with an LLM model section."""
    configs_dir = Path(configs_dir)
    out = {}
    for path in sorted(configs_dir.glob("llm_*.cfg")):
        text = path.read_text(encoding="utf8")
        if "\n" + MODEL_SECTION not in text:
            continue  # e.g. llm_ner_pipeline.cfg: the fine-tuned component, no spacy-llm model
        out[configs_dir / backend / path.name] = with_backend(text, path.name, backend)
    return out
