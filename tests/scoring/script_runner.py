"""Run a ``scripts/*.py`` typer CLI in-process (no new interpreter: fast tests)."""

import importlib.util
from pathlib import Path

import typer
from typer.testing import CliRunner

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def run_script(name: str, args):
    spec = importlib.util.spec_from_file_location(f"_script_{Path(name).stem}", SCRIPTS / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = getattr(module, "app", None)  # a script with its own Typer app (extra args, settings)
    if app is None:
        app = typer.Typer()
        app.command()(module.main)
    return CliRunner().invoke(app, [str(a) for a in args])
