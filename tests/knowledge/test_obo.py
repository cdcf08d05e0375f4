"""hp.obo parser: the tiny excerpt, and broken files stop with the file and line named."""

import pytest

from raredis_llm.knowledge.errors import SourceFileError
from raredis_llm.knowledge.obo import read_obo

from tests.knowledge.kb_data import TINY_OBO


def test_reads_terms_synonyms_definitions_and_parents():
    onto = read_obo(TINY_OBO)
    assert onto.version == "2025-01-16-tiny"
    seizure = onto.terms["HP:0001250"]
    assert seizure.name == "Seizure"
    assert seizure.definition.startswith("A seizure is an intermittent abnormality")
    assert [(s.text, s.scope, s.type) for s in seizure.synonyms] == [
        ("Epilepsy", "RELATED", "layperson"), ("Epileptic seizure", "EXACT", None),
        ("Seizures", "EXACT", "plural_form")]
    assert seizure.parents == ["HP:0000707"]
    assert onto.terms["HP:0000951"].alt_ids == ["HP:0001478"]
    obsolete = onto.terms["HP:0009999"]
    assert obsolete.obsolete and obsolete.replaced_by == "HP:0001250"
    assert "part_of" not in onto.terms  # [Typedef] stanzas are not terms


def _write(tmp_path, text):
    path = tmp_path / "hp.obo"
    path.write_text(text, encoding="utf8")
    return path


GOOD = "format-version: 1.2\n\n[Term]\nid: HP:0000001\nname: All\n\n[Term]\nid: HP:0000118\nname: Phenotypic abnormality\nis_a: HP:0000001 ! All\n"


def test_good_minimal_file(tmp_path):
    assert sorted(read_obo(_write(tmp_path, GOOD)).terms) == ["HP:0000001", "HP:0000118"]


@pytest.mark.parametrize("text, line, message", [
    (GOOD + "this line has no tag\n", 11, "expected 'tag: value'"),
    (GOOD.replace('name: Phenotypic abnormality', 'def: "unterminated definition'), 9, "expected a quoted string"),
    # a file cut short inside a term: its parent id is incomplete
    (GOOD + "\n[Term]\nid: HP:0000002\nname: Abnormality of body height\nis_a: HP:00000", 15, "is_a HP:00000"),
    (GOOD + "\n[Term]\nid: HP:0000002\n", 12, "has no name"),
    (GOOD + "\n[Term]\nid: HP:0000003\nname: X\nsynonym: \"Y\" SOMETIMES []\n", 15, "synonym without a scope"),
    (GOOD + "\n[Term\n", 12, "malformed stanza header"),
    ("format-version: 1.2\n", 1, r"no \[Term\] stanzas"),
])
def test_malformed_or_truncated_file_names_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, text)
    with pytest.raises(SourceFileError, match=message) as info:
        read_obo(path)
    assert info.value.path == str(path) and info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="hp.obo"):
        read_obo(tmp_path / "hp.obo")
