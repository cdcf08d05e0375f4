"""Output formats: rendering gold answers and parsing (adversarial) model answers."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raredis_llm.labels import LABELS
from raredis_llm.ner.formats import FORMAT_NAMES, bio_tokens, get_format
from raredis_llm.ner.stats import DROP_REASONS, MATCH_TYPES, add_stats, empty_stats

TEXT = "Fabry disease causes pain. The pain and weight-loss were severe; Pain recurs."
SPANS = [
    (0, 13, "RAREDISEASE"),
    (21, 25, "SYMPTOM"),
    (31, 35, "SYMPTOM"),
    (40, 51, "SIGN"),
    (65, 69, "SYMPTOM"),
]


def check_invariants(stats):
    assert set(stats["dropped"]) == set(DROP_REASONS)
    assert set(stats["match"]) == set(MATCH_TYPES)
    assert stats["given"] == stats["aligned"] + sum(stats["dropped"].values())
    assert sum(stats["match"].values()) == stats["aligned"]


def parse(name, answer, text=TEXT, labels=LABELS, **kwargs):
    spans, stats = get_format(name).parse(text, answer, labels, **kwargs)
    check_invariants(stats)
    assert spans == sorted(spans)
    for (s1, e1, _), (s2, e2, _) in zip(spans, spans[1:]):
        assert e1 <= s2
    return spans, stats


def test_get_format_names():
    assert set(FORMAT_NAMES) == {"inline", "json", "bio", "lines"}
    with pytest.raises(ValueError, match="Unknown output format"):
        get_format("xml")


@pytest.mark.parametrize("name", ["inline", "json", "bio", "lines"])
def test_instructions_are_text(name):
    text = get_format(name).instructions
    assert isinstance(text, str) and len(text) > 50


@pytest.mark.parametrize("name", ["inline", "json", "bio", "lines"])
def test_round_trip_fixed(name):
    fmt = get_format(name)
    answer = fmt.render(TEXT, SPANS)
    spans, stats = parse(name, answer)
    assert spans == SPANS
    assert stats["match"]["exact"] == len(SPANS)


def test_render_shapes():
    assert get_format("inline").render("a fever b", [(2, 7, "SIGN")]) == "a <SIGN>fever</SIGN> b"
    assert json.loads(get_format("json").render("a fever b", [(2, 7, "SIGN")])) == [
        {"text": "fever", "label": "SIGN"}
    ]
    assert get_format("bio").render("a fever b", [(2, 7, "SIGN")]) == "a\tO\nfever\tB-SIGN\nb\tO"
    assert get_format("json").render("abc", []) == "[]"
    assert get_format("inline").render("abc", []) == "abc"
    assert get_format("lines").render("a fever b", [(2, 7, "SIGN"), (8, 9, "DISEASE")]) == "SIGN: fever\nDISEASE: b"
    assert get_format("lines").render("abc", []) == "none"


# ---------------------------------------------------------------------------- lines
def test_lines_repeats_map_in_order_and_prose_is_ignored():
    text = "Pain in the legs, then pain in the arms."
    answer = "Here you go:\n- SYMPTOM: Pain\nSYMPTOM: pain\nSIGN:\nUNKNOWN: legs\nnone."
    spans, stats = parse("lines", answer, text=text)
    assert spans == [(0, 4, "SYMPTOM"), (23, 27, "SYMPTOM")]
    assert stats["dropped"]["malformed"] == 1 and stats["dropped"]["bad_label"] == 1


def test_lines_constraint_strings_cover_labels():
    glue = get_format("lines").constraint_strings(["SIGN", "DISEASE"])
    assert "SIGN: " in glue and "DISEASE: " in glue and "\n" in glue and "none" in glue


@pytest.mark.parametrize("name", ["inline", "bio"])
def test_render_rejects_overlap(name):
    with pytest.raises(ValueError, match="overlaps"):
        get_format(name).render("weight loss", [(0, 11, "SIGN"), (7, 11, "SIGN")])


@pytest.mark.parametrize("name", ["inline", "json", "bio", "lines"])
@pytest.mark.parametrize("answer", ["", None, "   \n ", "I cannot help with that.", "none"])
def test_empty_or_prose_answer(name, answer):
    spans, stats = parse(name, answer)
    assert spans == []
    assert stats["given"] == 0


# ----------------------------------------------------------------------------- json
def test_json_hallucinated_mention_dropped():
    answer = json.dumps([{"text": "Fabry disease", "label": "RAREDISEASE"},
                         {"text": "cystic fibrosis", "label": "RAREDISEASE"}])
    spans, stats = parse("json", answer)
    assert spans == [(0, 13, "RAREDISEASE")]
    assert stats["dropped"]["not_found"] == 1


def test_json_wrong_case_and_whitespace_and_hyphen():
    answer = json.dumps([{"text": "FABRY   disease", "label": "RAREDISEASE"},
                         {"text": "weight loss", "label": "SIGN"},
                         {"text": "fabry disease", "label": "RAREDISEASE"}])
    spans, stats = parse("json", answer)
    assert spans == [(0, 13, "RAREDISEASE"), (40, 51, "SIGN")]
    assert stats["match"]["normalised"] == 2
    # the third is the same string again, but the text has only one occurrence
    assert stats["dropped"]["not_found"] == 1


def test_json_case_match_and_repeats_in_order():
    answer = json.dumps([{"text": "pain", "label": "SYMPTOM"}] * 3)
    spans, stats = parse("json", answer)
    # the first two are exact matches; the third finds "Pain" case-insensitively
    assert spans == [(21, 25, "SYMPTOM"), (31, 35, "SYMPTOM"), (65, 69, "SYMPTOM")]
    assert stats["match"] == {"exact": 2, "case": 1, "normalised": 0, "fuzzy": 0}


def test_json_out_of_order_mentions():
    answer = json.dumps([{"text": "weight-loss", "label": "SIGN"},
                         {"text": "pain", "label": "SYMPTOM"},
                         {"text": "Fabry disease", "label": "RAREDISEASE"},
                         {"text": "pain", "label": "SYMPTOM"}])
    spans, _ = parse("json", answer)
    assert spans == [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM"), (31, 35, "SYMPTOM"),
                     (40, 51, "SIGN")]


def test_json_fuzzy_match():
    answer = json.dumps([{"text": "Fabry diseases", "label": "RAREDISEASE"}])
    spans, stats = parse("json", answer)
    assert spans == [(0, 13, "RAREDISEASE")]
    assert stats["match"]["fuzzy"] == 1
    # below the threshold: nothing
    spans, stats = parse("json", answer, fuzzy_threshold=0.99)
    assert spans == [] and stats["dropped"]["not_found"] == 1


def test_json_unknown_and_lenient_labels():
    answer = json.dumps([{"text": "Fabry disease", "label": "rare_disease"},
                         {"text": "pain", "label": "Symptom"},
                         {"text": "weight-loss", "label": "FINDING"}])
    spans, stats = parse("json", answer)
    assert spans == [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")]
    assert stats["dropped"]["bad_label"] == 1


def test_json_label_alias_mapping_for_4type_view():
    answer = json.dumps([{"text": "Fabry disease", "label": "SKINRAREDISEASE"}])
    labels = {"RAREDISEASE": "RAREDISEASE", "SKINRAREDISEASE": "RAREDISEASE", "SIGN": "SIGN"}
    spans, _ = parse("json", answer, labels=labels)
    assert spans == [(0, 13, "RAREDISEASE")]


def test_json_truncated():
    full = json.dumps([{"text": "Fabry disease", "label": "RAREDISEASE"},
                       {"text": "pain", "label": "SYMPTOM"},
                       {"text": "weight-loss", "label": "SIGN"}])
    answer = full[: full.index("weight") + 3]
    spans, stats = parse("json", answer)
    assert spans == [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")]
    assert stats["given"] == 3 and stats["dropped"]["malformed"] == 1


def test_json_prose_and_code_fences():
    answer = ("Sure! Here are the entities:\n```json\n"
              '[{"text": "pain", "label": "SYMPTOM"}]\n```\nLet me know if you need more.')
    spans, _ = parse("json", answer)
    assert spans == [(21, 25, "SYMPTOM")]


def test_json_other_shapes():
    spans, _ = parse("json", '{"entities": [{"mention": "pain", "type": "SYMPTOM"}]}')
    assert spans == [(21, 25, "SYMPTOM")]
    spans, _ = parse("json", '{"SYMPTOM": ["pain", "pain"], "SIGN": "weight-loss"}')
    assert spans == [(21, 25, "SYMPTOM"), (31, 35, "SYMPTOM"), (40, 51, "SIGN")]
    spans, _ = parse("json", '[["pain", "SYMPTOM"]]')
    assert spans == [(21, 25, "SYMPTOM")]
    spans, stats = parse("json", '[{"text": "pain"}, 3, {"text": 5, "label": "SIGN"}]')
    assert spans == [] and stats["dropped"]["malformed"] == 3


def test_json_trailing_comma_salvaged():
    spans, stats = parse("json", '[{"text": "pain", "label": "SYMPTOM"}, {"text": "Fabry disease", "label": "RAREDISEASE"},]')
    assert spans == [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")]
    assert stats["given"] == 2


def test_overlap_rule_earlier_then_longer():
    answer = json.dumps([{"text": "disease causes", "label": "SIGN"},
                         {"text": "Fabry disease", "label": "RAREDISEASE"},
                         {"text": "Fabry", "label": "DISEASE"}])
    spans, stats = parse("json", answer)
    # "Fabry disease" starts first; "Fabry" starts at the same char but is shorter
    assert spans == [(0, 13, "RAREDISEASE")]
    assert stats["dropped"]["overlap"] == 2


def test_nested_string_prefers_free_occurrence():
    text = "Fabry disease is a disease."
    answer = json.dumps([{"text": "Fabry disease", "label": "RAREDISEASE"},
                         {"text": "disease", "label": "DISEASE"}])
    spans, _ = parse("json", answer, text=text)
    assert spans == [(0, 13, "RAREDISEASE"), (19, 26, "DISEASE")]


def test_word_boundary_preferred():
    text = "Painful joints and pain."
    spans, _ = parse("json", json.dumps([{"text": "pain", "label": "SYMPTOM"}]), text=text)
    assert spans == [(19, 23, "SYMPTOM")]


def test_snap_callback_and_misaligned():
    def snap(start, end):
        return None if start == 0 else (start, end)

    answer = json.dumps([{"text": "Fabry disease", "label": "RAREDISEASE"},
                         {"text": "pain", "label": "SYMPTOM"}])
    spans, stats = parse("json", answer, snap=snap)
    assert spans == [(21, 25, "SYMPTOM")]
    assert stats["dropped"]["misaligned"] == 1


def test_duplicate_same_span():
    text = "pain"
    answer = '<SYMPTOM><SYMPTOM>pain</SYMPTOM></SYMPTOM>'
    spans, stats = parse("inline", answer, text=text)
    assert spans == [(0, 4, "SYMPTOM")]
    assert stats["dropped"]["duplicate"] == 1


# --------------------------------------------------------------------------- inline
def test_inline_positions_disambiguate_repeats():
    # Only the second "pain" is tagged: the re-emitted text tells which one.
    answer = TEXT.replace("The pain", "The <SYMPTOM>pain</SYMPTOM>")
    spans, stats = parse("inline", answer)
    assert spans == [(31, 35, "SYMPTOM")]
    assert stats["match"]["exact"] == 1


def test_inline_prose_fences_and_changed_text():
    answer = ("Here is the annotated sentence:\n```\n"
              "<RAREDISEASE>Fabry disease</RAREDISEASE> causes <SYMPTOM>pain</SYMPTOM>.  "
              "The pain and <SIGN>weight loss</SIGN> were severe; Pain recurs.\n```")
    spans, stats = parse("inline", answer)
    assert spans == [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM"), (40, 51, "SIGN")]
    assert stats["match"]["normalised"] == 1


def test_inline_wrong_case_and_spaces_in_tags():
    answer = "< sign >FABRY DISEASE</Sign> causes pain."
    spans, stats = parse("inline", answer)
    assert spans == [(0, 13, "SIGN")]
    assert stats["match"]["case"] == 1


def test_inline_malformed_tags():
    # unclosed (truncated), mismatched close and a stray close
    answer = ("<RAREDISEASE>Fabry disease</SIGN> causes </SYMPTOM>pain. The <SYMPTOM>pain</SYMPTOM> "
              "and <SIGN>weight-loss")
    spans, stats = parse("inline", answer)
    assert spans == [(31, 35, "SYMPTOM")]
    assert stats["given"] == 4
    assert stats["dropped"]["malformed"] == 3


def test_inline_unknown_label_and_hallucination():
    answer = "<GENE>Fabry</GENE> disease causes <SYMPTOM>headache</SYMPTOM>. The pain ..."
    spans, stats = parse("inline", answer)
    assert spans == []
    assert stats["dropped"]["bad_label"] == 1 and stats["dropped"]["not_found"] == 1


def test_inline_nested_tags_keep_outer():
    answer = "<RAREDISEASE><DISEASE>Fabry</DISEASE> disease</RAREDISEASE> causes pain."
    spans, stats = parse("inline", answer)
    assert spans == [(0, 13, "RAREDISEASE")]
    assert stats["dropped"]["overlap"] == 1


def test_inline_text_with_angle_brackets():
    text = "Onset <5 years with fever > 39 C."
    answer = "Onset <5 years with <SIGN>fever</SIGN> > 39 C."
    spans, _ = parse("inline", answer, text=text)
    assert spans == [(20, 25, "SIGN")]


# ------------------------------------------------------------------------------ bio
def test_bio_with_spaces_lowercase_tags_and_prose():
    answer = ("Here is the BIO tagging:\n\n"
              "Fabry B-RAREDISEASE\ndisease i-raredisease\ncauses O\npain B-SYMPTOM\n. O\n"
              "The O\npain B-SYMPTOM\nand O\nweight B-SIGN\n- I-SIGN\nloss I-SIGN\n")
    spans, stats = parse("bio", answer)
    assert spans == [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM"), (31, 35, "SYMPTOM"),
                     (40, 51, "SIGN")]
    assert stats["match"]["exact"] == 4


def test_bio_i_without_b_and_label_switch():
    answer = "Fabry\tI-RAREDISEASE\ndisease\tI-DISEASE\ncauses\tO"
    spans, stats = parse("bio", answer)
    # I- without B- starts a mention (conlleval); a label switch starts a new one
    assert spans == [(0, 5, "RAREDISEASE"), (6, 13, "DISEASE")]


def test_bio_changed_tokens_fall_back_to_search():
    answer = "fabry\tB-RAREDISEASE\ndiseases\tI-RAREDISEASE\ncauses\tO\npain\tB-SYMPTOM"
    spans, stats = parse("bio", answer)
    assert spans == [(0, 13, "RAREDISEASE"), (21, 25, "SYMPTOM")]
    assert stats["match"]["fuzzy"] == 1


def test_bio_hallucinated_token_and_bad_label():
    answer = "migraine\tB-DISEASE\nFabry\tB-GENE\ndisease\tO"
    spans, stats = parse("bio", answer)
    assert spans == []
    assert stats["dropped"] == {**stats["dropped"], "not_found": 1, "bad_label": 1}


def test_bio_tokens_split_at_span_boundaries():
    text = "HbA1c-positive"
    assert bio_tokens(text) == [(0, 5), (5, 6), (6, 14)]
    assert bio_tokens(text, [(0, 3, "SIGN")]) == [(0, 3), (3, 5), (5, 6), (6, 14)]


def test_stats_helpers():
    total = empty_stats()
    _, stats = parse("json", '[{"text": "pain", "label": "SYMPTOM"}, {"text": "x", "label": "Q"}]')
    add_stats(total, stats)
    add_stats(total, stats)
    assert total["given"] == 4 and total["aligned"] == 2 and total["dropped"]["bad_label"] == 2
    check_invariants(total)


# ------------------------------------------------------------------ property tests
ENTITY_PHRASES = ["Fabry disease", "pain", "weight loss", "fever", "Alport syndrome",
                  "skin rash", "disease", "IgA", "café-au-lait spots"]
FILLERS = ["the", "patient", "had", "and", "with", "(", ")", ",", ".", "of", "in", "was",
           "mild", "7", "%", ";", "both"]


@st.composite
def texts_with_spans(draw):
    pieces = draw(st.lists(
        st.one_of(
            st.tuples(st.just(None), st.sampled_from(FILLERS)),
            st.tuples(st.sampled_from(LABELS), st.sampled_from(ENTITY_PHRASES)),
        ),
        min_size=0, max_size=14,
    ))
    text, spans = "", []
    for label, piece in pieces:
        sep = draw(st.sampled_from([" ", " ", "  ", "\n", ""])) if text else ""
        if sep == "" and text and (text[-1].isalnum() or piece[0].isalnum()):
            sep = " "  # keep words apart so every mention is a whole word run
        text += sep
        if label is not None:
            spans.append((len(text), len(text) + len(piece), label))
        text += piece
    return text, spans


@settings(max_examples=150, deadline=None)
@given(texts_with_spans(), st.sampled_from(["inline", "json", "bio", "lines"]))
def test_round_trip_property(case, name):
    text, spans = case
    # json and lines have no positions: a string that is tagged in one place and untagged in
    # another is ambiguous, so for json only texts where every occurrence of a tagged
    # phrase is tagged are guaranteed to round-trip ("every mention is tagged").
    if name in ("json", "lines"):
        tagged = {text[s:e] for s, e, _ in spans}
        for phrase in tagged:
            count = sum(1 for s, e, _ in spans if text[s:e] == phrase)
            occurrences = sum(1 for i in range(len(text)) if text.startswith(phrase, i)
                              and (i == 0 or not text[i - 1].isalnum())
                              and (i + len(phrase) == len(text) or not text[i + len(phrase)].isalnum()))
            if count != occurrences:
                return
    fmt = get_format(name)
    parsed, stats = parse(name, fmt.render(text, spans), text=text)
    assert parsed == spans
    assert stats["aligned"] == len(spans)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["inline", "json", "bio", "lines"]))
def test_parse_never_raises(answer, name):
    parse(name, answer, text="Fabry disease causes pain.")
