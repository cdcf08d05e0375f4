"""The guards' length benchmark runs end to end and reports one row per guard and length."""

from raredis_llm.bench.guards import format_table, note_of, scaling


def test_rows_per_guard_and_length():
    result = scaling(n_words=60, multiples=(1, 2), repeats=1)
    rows = result["rows"]
    assert [(r["guard"], r["multiple"]) for r in rows] == [
        ("raredis_boundaries", 1), ("raredis_boundaries", 2), ("raredis_entity_guard", 1), ("raredis_entity_guard", 2)]
    assert all(r["words"] >= 60 * r["multiple"] and r["seconds"] >= 0 for r in rows)
    assert rows[0]["ratio_to_1x"] == 1.0
    assert "| raredis_boundaries | 2x |" in format_table(result)


def test_the_note_has_the_markup_the_guards_handle():
    note = note_of(100)
    assert len(note.split()) >= 100
    assert "<b>" in note and "&nbsp;" in note and "\n- " in note and "\n1. " in note
