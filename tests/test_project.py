"""project.yml as weasel reads it: every command of every workflow exists, no list item
is joined with its neighbour (weasel's variable substitution joins an item with a
variable inside it to a following item that starts with one), and the product carries
no process words."""

import re
from pathlib import Path

from weasel.util import load_project_config

ROOT = Path(__file__).resolve().parents[1]


def test_workflows_name_commands_and_no_list_item_is_joined():
    config = load_project_config(ROOT)
    names = {c["name"] for c in config["commands"]}
    for workflow, steps in config["workflows"].items():
        assert set(steps) <= names, (workflow, set(steps) - names)
    for command in config["commands"]:
        for key in ("deps", "outputs"):
            for item in command.get(key, []):
                assert ", " not in item, f"{command['name']} {key}: {item!r} (two items joined)"
        for line in command.get("script", []):
            assert "', '" not in line, f"{command['name']} script: {line!r} (two lines joined)"


def test_all_trains_scores_and_ships_the_llm_tagger():
    steps = load_project_config(ROOT)["workflows"]["all"]
    for step in ("train-tagger", "evaluate-tagger", "assemble-ensemble", "select-pipeline", "package-tagger"):
        assert step in steps
    assert steps.index("train-tagger") < steps.index("assemble-ensemble") < steps.index("select-pipeline")


def test_no_process_words_in_the_product():
    pattern = re.compile(r"\bissues? #?\d+|\blevers? \d+|branch `?quality", re.IGNORECASE)
    files = [ROOT / "project.yml", *(ROOT / "configs").glob("*"), *(ROOT / "components").rglob("*.py")]
    hits = [f"{f.relative_to(ROOT)}:{i}" for f in files for i, line in enumerate(f.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert not hits, hits


def _requirement_name(req: str) -> str:
    return re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_the_library_declares_ranges_and_the_lock_pins_them():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        declared += [r for r in reqs if not r.startswith("raredis-llm")]
    assert not [r for r in declared if "==" in r], "exact pins belong in requirements/lock.txt"
    lock = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            lock[_requirement_name(name)] = version
    assert not [r for r in declared if _requirement_name(r) not in lock], "every dependency has a locked version"
    assert "raredis-llm" not in lock
    # the project's own set-up installs the lock, with every extra `all` needs
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert '-c "$LOCK"' in setup and "requirements/lock.txt" in setup and "[project" in setup
    project_extra = next(r for r in project["optional-dependencies"]["project"] if r.startswith("raredis-llm["))
    named = set(project_extra[len("raredis-llm["):-1].split(","))
    assert named == set(project["optional-dependencies"]) - {"project", "server", "test"}
