"""Label definitions and annotation rules for prompts, from a YAML file.

A definitions file has ``description`` (str), ``labels`` (LABEL: definition) and
``guidelines`` (list of str); the bundled ones are ``templates/labels/raredis_5type.yml``
and ``raredis_4type.yml`` (after Xi et al. 2025).
"""

import warnings
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import srsly

from ...util import bundled_path


def default_definitions_path(labels: Sequence[str]) -> Path:
    """The bundled definitions file for a label set (4-type when SKINRAREDISEASE is absent)."""
    name = "raredis_5type.yml" if "SKINRAREDISEASE" in labels else "raredis_4type.yml"
    return bundled_path("labels", name)


def load_definitions(path: Optional[Union[str, Path]], labels: Sequence[str]) -> Dict[str, Any]:
    """Read a definitions YAML file: ``description`` (str), ``labels`` (LABEL: definition),
    ``guidelines`` (list of str). Errors name the file and the bad key."""
    file = Path(path) if path else default_definitions_path(labels)
    if not file.exists():
        raise FileNotFoundError(f"Label definitions file not found: {file}")
    try:
        data = srsly.read_yaml(file)
    except Exception as err:
        raise ValueError(f"{file}: not valid YAML ({err})") from err
    if not isinstance(data, Mapping):
        raise ValueError(f"{file}: expected a mapping with keys description, labels, guidelines")
    defs = data.get("labels") or {}
    guidelines = data.get("guidelines") or []
    description = data.get("description") or ""
    if not isinstance(defs, Mapping) or not all(isinstance(v, str) for v in defs.values()):
        raise ValueError(f"{file}: 'labels' must map each label to a definition string")
    if not isinstance(guidelines, list) or not all(isinstance(g, str) for g in guidelines):
        raise ValueError(f"{file}: 'guidelines' must be a list of strings")
    if not isinstance(description, str):
        raise ValueError(f"{file}: 'description' must be a string")
    missing = [label for label in labels if label not in defs]
    if missing:
        warnings.warn(f"{file}: no definition for label(s) {missing}")
    return {
        "description": " ".join(description.split()),
        "labels": {str(k): " ".join(v.split()) for k, v in defs.items()},
        "guidelines": [" ".join(g.split()) for g in guidelines],
        "source": str(file),
    }


def split_labels(labels: Union[str, Iterable[str]]) -> List[str]:
    if isinstance(labels, str):
        labels = labels.split(",")
    out: List[str] = []
    for label in labels:
        label = str(label).strip()
        if label and label not in out:
            out.append(label)
    return out
