import pytest

from raredis_llm.corpus.brat import (
    BratDocument, BratError, Entity, Relation, format_ann, iter_ann_files, parse_ann, read_brat, write_brat,
)

TEXT = 'Weakness and "muscle" pain in ACTH deficiency.'
LABELS = ["SIGN", "SYMPTOM", "RAREDISEASE", "ANAPHOR"]


def test_parse_entities_relations_and_discontinuous():
    ann = (
        "T1\tSYMPTOM 0 8\tWeakness\n"
        "T2\tSYMPTOM 14 20;22 26\tmuscle pain\n"
        "T3\tRAREDISEASE 30 45\tACTH deficiency\n"
        "R1\tProduces Arg1:T3 Arg2:T1\t\n"
        "#1\tAnnotatorNotes T1\tnote\n"
    )
    ents, rels, other, issues = parse_ann(ann, TEXT, "x.ann", LABELS)
    assert [(e.id, e.label, e.fragments) for e in ents] == [
        ("T1", "SYMPTOM", [(0, 8)]), ("T2", "SYMPTOM", [(14, 20), (22, 26)]), ("T3", "RAREDISEASE", [(30, 45)])
    ]
    assert ents[1].is_discontinuous and ents[1].text == "muscle pain"
    assert rels == [Relation("R1", "Produces", "T3", "T1")]
    assert other == ["#1\tAnnotatorNotes T1\tnote"]
    assert issues == []


@pytest.mark.parametrize(
    "line,kind",
    [
        ("T1\tSIGN 0 8", "malformed_line"),
        ("T1\tSIGN 0 x8\tWeakness", "malformed_line"),
        ("T1\tSIGN 0 800\tWeakness", "offsets_out_of_range"),
        ("T1\tSIGN 5 5\t", "offsets_out_of_range"),
        ("T1\tGENE 0 8\tWeakness", "unknown_label"),
        ("T1\tSIGN 0 8\tWeakne$$", "text_mismatch"),
        ("R1\tProduces Arg1:T3", "malformed_line"),
        ("Q1\twhat is this", "malformed_line"),
    ],
)
def test_bad_lines_name_file_and_line(line, kind):
    ann = "T9\tSYMPTOM 0 8\tWeakness\n" + line + "\n"
    with pytest.raises(BratError) as err:
        parse_ann(ann, TEXT, "corpus/bad.ann", LABELS)
    assert err.value.issue.kind == kind
    assert "corpus/bad.ann:2" in str(err.value)
    # lenient: the line is reported, nothing else is lost
    ents, _, _, issues = parse_ann(ann, TEXT, "corpus/bad.ann", LABELS, lenient=True)
    assert [i.kind for i in issues] == [kind] and issues[0].line == 2
    assert "T9" in [e.id for e in ents]


def test_quote_doubling_is_read_by_offsets_and_reported():
    text = 'a ""growing"" bone and "salaam" movements'
    ann = 'T1\tSIGN 0 18\t"a """"growing"""" bone"\nT2\tSIGN 23 41\tsalaam movements\n'
    ents, _, _, issues = parse_ann(ann, text, "q.ann", ["SIGN"])
    assert [e.text for e in ents] == ['a ""growing"" bone', '"salaam" movements']
    assert [i.kind for i in issues] == ["quote_doubling", "quote_doubling"]


def test_missing_txt_and_orphan_txt(tmp_path):
    (tmp_path / "a.ann").write_text("T1\tSIGN 0 1\tx\n")
    with pytest.raises(BratError, match="no text file a.txt"):
        read_brat(tmp_path / "a.ann", lenient=True)
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.txt").write_text("y")
    with pytest.raises(BratError, match="b.ann"):
        iter_ann_files(tmp_path)


def test_dangling_relation_is_kept_and_reported():
    ents, rels, _, issues = parse_ann("T1\tSIGN 0 8\tWeakness\nR1\tAnaphora Arg1:T1 Arg2:T99\t\n", TEXT, "d.ann", LABELS)
    assert len(rels) == 1 and issues[0].kind == "dangling_relation" and "T99" in issues[0].message


def test_write_read_round_trip(tmp_path):
    doc = BratDocument("d1", TEXT + "\r\nsecond line", [Entity("T1", "SYMPTOM", [(22, 26), (14, 20)], "pain muscle")],
                       [Relation("R1", "Produces", "T1", "T1")], ["#1\tAnnotatorNotes T1\tx"])
    write_brat(doc, tmp_path)
    back, issues = read_brat(tmp_path / "d1.ann", labels=LABELS)
    assert issues == [] and back == doc
    assert format_ann(back) == format_ann(doc)
