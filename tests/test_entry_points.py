"""Every registered function and factory resolves by entry point alone, with no import of
raredis_llm, as in a user's own pipeline after `pip install`."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GROUP_TO_REGISTRY = {
    "spacy_factories": "factories",
    "spacy_architectures": "architectures",
    "spacy_scorers": "scorers",
    "spacy_misc": "misc",
    "spacy_readers": "readers",
    "spacy_tokenizers": "tokenizers",
    "spacy_augmenters": "augmenters",
    "thinc_llm_tasks": "llm_tasks",
    "thinc_llm_models": "llm_models",
}


def _declared():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {g: sorted(names) for g, names in data["project"]["entry-points"].items()}


def test_all_groups_are_known_and_non_empty():
    declared = _declared()
    assert set(declared) <= set(GROUP_TO_REGISTRY)
    assert {"thinc_llm_tasks", "thinc_llm_models", "spacy_factories", "spacy_misc"} <= set(declared)


@pytest.mark.slow
def test_entry_points_resolve_in_a_clean_process():
    code = """
import sys, spacy, spacy_llm  # spacy_llm creates the llm_* registries
from spacy.util import registry
todo = {todo!r}
for reg, names in todo.items():
    for name in names:
        if reg == "factories":
            nlp = spacy.blank("en")
            assert name in spacy.util.registry.factories.get_all() or registry.factories.get(name), name
        else:
            getattr(registry, reg).get(name)
print("ok")
""".format(todo={GROUP_TO_REGISTRY[g]: names for g, names in _declared().items()})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "ok"
