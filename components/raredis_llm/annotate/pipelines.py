"""The pipeline ``annotate`` runs: an installed package, a pipeline folder, or a config.

A config (``configs/cnn.cfg``, ``configs/llm_fewshot_knn.cfg``, one's own) is built once
into ``<work_dir>/<config name>-<hash>/`` and reused: trained with ``spacy train`` when
it has trainable components (``tok2vec``, ``transformer``, ``ner``), else assembled
(``nlp.initialize()``, as ``spacy assemble`` does). The hash covers the config text,
the overrides and the contents of the files its ``[paths]`` name, so a changed corpus or
setting builds a new pipeline and a restart of ``annotate`` finds the same one.
"""

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

import spacy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.util import load_config, load_model_from_config

from ..guard.pipeline import add_guards
from ..util import tree_digest, write_dir

logger = logging.getLogger(__name__)

DEFAULT_WORK_DIR = Path("training") / "annotate"


def config_key(config_path: Path, overrides: Dict[str, Any]) -> str:
    """A short hash of the config, the overrides and the files its [paths] point to."""
    h = hashlib.sha256()
    h.update(config_path.read_bytes())
    h.update(json.dumps(overrides, sort_keys=True, default=str).encode())
    config = load_config(config_path, overrides=overrides, interpolate=True)
    for name, value in sorted(config.get("paths", {}).items()):
        if isinstance(value, str) and value and Path(value).exists():
            h.update(f"{name}:{tree_digest(value)}".encode())
    return h.hexdigest()[:12]


def _needs_training(nlp: Language) -> List[str]:
    return [name for name, proc in nlp.pipeline if isinstance(proc, TrainablePipe)]


def build_from_config(config_path: Path, overrides: Optional[Dict[str, Any]] = None,
                      work_dir: Path = DEFAULT_WORK_DIR) -> Path:
    """The folder of the pipeline ``config_path`` describes, trained or assembled on first use."""
    overrides = dict(overrides or {})
    target = Path(work_dir) / f"{config_path.stem}-{config_key(config_path, overrides)}"
    if (target / "model-best" / "config.cfg").exists():
        return target / "model-best"
    if (target / "config.cfg").exists():
        return target
    config = load_config(config_path, overrides=overrides, interpolate=False)
    nlp = load_model_from_config(config, auto_fill=True)
    trainable = _needs_training(nlp)
    if trainable:
        from spacy.cli.train import train

        logger.warning("%s has trainable components %s: training it into %s (once)", config_path, trainable, target)
        train(config_path, target, overrides=overrides)
        return target / "model-best"
    logger.warning("%s: assembling it into %s (once)", config_path, target)
    nlp.initialize()
    return write_dir(target, nlp.to_disk)


def on_backend(config_path: Path, backend: str, work_dir: Path = DEFAULT_WORK_DIR) -> Path:
    """A prompting strategy's config (``llm_<strategy>.cfg``) with its model section swapped
    for ``backend`` (:func:`raredis_llm.llm.strategies.strategy_config`), written next to
    the pipelines built from configs."""
    from ..llm.strategies import strategy_config

    if not config_path.stem.startswith("llm_"):
        raise ValueError(f"{config_path}: --llm-backend needs a prompting strategy config (llm_<strategy>.cfg)")
    config = strategy_config(config_path.parent, config_path.stem[len("llm_"):], backend)
    out = Path(work_dir) / f"{config_path.stem}.{backend}.cfg"
    out.parent.mkdir(parents=True, exist_ok=True)
    config.to_disk(out, interpolate=False)
    return out


def load_pipeline(spec: str, *, overrides: Optional[Dict[str, Any]] = None, work_dir: Path = DEFAULT_WORK_DIR,
                  guards: bool = True, max_length: Optional[int] = None, llm_backend: Optional[str] = None) -> Language:
    """Load ``spec`` (package name, pipeline folder or ``.cfg``; ``overrides`` apply to the
    config either way), ready for ``annotate``:
    with ``raredis_boundaries`` / ``raredis_entity_guard`` when ``guards``, and, for a
    transformer pipeline, ``doc_cleaner`` last (``trf_data`` is not needed once the
    entities are set and would be copied between processes). ``llm_backend`` (a
    prompting strategy's ``.cfg`` only): run it on ``hf``, ``openai`` or ``llamacpp``."""
    path = Path(spec)
    load_overrides = dict(overrides or {})
    if llm_backend is not None and path.suffix != ".cfg":
        raise ValueError(f"{spec}: --llm-backend applies to a prompting strategy config (configs/llm_<strategy>.cfg)")
    if path.suffix == ".cfg":
        if not path.is_file():
            raise FileNotFoundError(f"{spec}: no such config file")
        if llm_backend is not None:
            path = on_backend(path, llm_backend, work_dir)
        path = build_from_config(path, overrides, work_dir)
        load_overrides = {}
    try:  # overrides of a saved pipeline's config, e.g. another LLM backend or server URL
        nlp = spacy.load(path if path.exists() else spec, config=load_overrides)
    except OSError as err:
        raise ValueError(f"{spec}: not an installed pipeline package, a pipeline folder or a .cfg file ({err})") from None
    if guards:
        added = add_guards(nlp)
        if added:
            logger.info("added %s to %s", ", ".join(added), spec)
    factories = [nlp.get_pipe_meta(name).factory for name in nlp.pipe_names]
    if "transformer" in factories and "doc_cleaner" not in factories:
        nlp.add_pipe("doc_cleaner", last=True)
    if max_length is not None:
        nlp.max_length = max_length
    return nlp
