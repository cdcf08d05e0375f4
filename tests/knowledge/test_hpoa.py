"""phenotype.hpoa parser: the tiny excerpt, and broken files stop with the file and line."""

import pytest

from raredis_llm.knowledge.errors import SourceFileError
from raredis_llm.knowledge.hpoa import COLUMNS, parse_frequency, read_hpoa

from tests.knowledge.kb_data import TINY_HPOA


def test_reads_diseases_and_phenotypes():
    ann = read_hpoa(TINY_HPOA)
    assert ann.version == "2025-01-16-tiny"
    fabry = ann.diseases["ORPHA:324"]
    assert fabry.name == "Fabry disease"
    # aspect I (inheritance) is not a phenotype; frequencies from HPO frequency terms
    assert fabry.phenotypes == {"HP:0000083": 0.9, "HP:0012531": 0.9, "HP:0001014": 0.55, "HP:0000365": 0.17}
    # NOT-qualified annotations are left out
    assert "HP:0001250" not in ann.diseases["ORPHA:79361"].phenotypes
    # one id written with two spellings keeps the other as other_names
    assert ann.diseases["OMIM:616592"].other_names == ["Developmental and Epileptic Encephalopathy 28"]
    assert "DECIPHER:1" in ann.diseases


@pytest.mark.parametrize("value, expected", [
    ("HP:0040281", 0.9), ("3/4", 0.75), ("45%", 0.45), ("", None), ("often", None), ("1/0", None)])
def test_parse_frequency(value, expected):
    assert parse_frequency(value) == expected


HEADER = "#version: 2025-01-16\n" + "\t".join(COLUMNS) + "\n"
ROW = "ORPHA:324\tFabry disease\t\tHP:0000083\tORPHA:324\tTAS\t\tHP:0040281\t\t\tP\tORPHA:orphadata[2025-01-16]\n"


def _write(tmp_path, text):
    path = tmp_path / "phenotype.hpoa"
    path.write_text(text, encoding="utf8")
    return path


@pytest.mark.parametrize("text, line, message", [
    (HEADER + ROW + ROW[:40], 4, "no line end"),                       # cut mid-line
    (HEADER + ROW + ROW[:40] + "\n", 4, "columns, expected 12"),
    ("#version: x\n" + ROW, 2, "expected the header row"),
    (HEADER + ROW.replace("HP:0000083", "HP:83"), 3, "malformed hpo_id"),
    (HEADER + ROW.replace("\tP\t", "\tX\t"), 3, "unknown aspect"),
    (HEADER + ROW.replace("ORPHA:324\tFabry", "ORPHA 324\tFabry"), 3, "malformed database_id"),
    (HEADER, 2, "no annotation rows"),
    ("", None, "no header row"),
])
def test_malformed_or_truncated_file_names_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, text)
    with pytest.raises(SourceFileError, match=message) as info:
        read_hpoa(path)
    assert info.value.path == str(path) and info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: " if line else f"{path}: ")
