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
