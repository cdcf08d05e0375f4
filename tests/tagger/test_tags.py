import numpy as np

from raredis_llm.tagger.tags import IGNORE, TagSet

TAGS = TagSet(["RAREDISEASE", "SIGN"])


def test_tag_set_and_biluo_conversion():
    assert TAGS.tags == ["O", "B-RAREDISEASE", "I-RAREDISEASE", "B-SIGN", "I-SIGN"]
    ids = TAGS.from_biluo(["B-RAREDISEASE", "L-RAREDISEASE", "O", "U-SIGN", "-", None, "U-DISEASE"])
    assert ids == [1, 2, 0, 3, IGNORE, IGNORE, 0]


def _scores(tag_seq):
    lp = np.full((len(tag_seq), len(TAGS)), -5.0)
    for i, t in enumerate(tag_seq):
        lp[i, TAGS.index[t]] = 0.0
    return lp


def test_decode_follows_the_scores_when_they_are_valid():
    seq = ["B-RAREDISEASE", "I-RAREDISEASE", "O", "B-SIGN"]
    path = TAGS.decode(_scores(seq))
    assert [TAGS.tags[i] for i in path] == seq
    assert TAGS.spans(path) == [(0, 2, "RAREDISEASE"), (3, 4, "SIGN")]


def test_decode_never_returns_an_invalid_sequence():
    # argmax would be O I-SIGN (invalid): the best valid path replaces it
    lp = np.log(np.array([[0.9, 0.0, 0.0, 0.05, 0.05], [0.1, 0.0, 0.0, 0.2, 0.7]]) + 1e-9)
    path = [TAGS.tags[i] for i in TAGS.decode(lp)]
    assert path in (["O", "B-SIGN"], ["B-SIGN", "I-SIGN"])
    # I- of another type after B- is not allowed either
    lp = _scores(["B-RAREDISEASE", "I-SIGN"])
    assert TAGS.tags[TAGS.decode(lp)[1]] != "I-SIGN"


def test_inactive_words_are_outside():
    path = TAGS.decode(_scores(["B-SIGN", "I-SIGN", "I-SIGN"]), active=np.array([True, False, True]))
    assert [TAGS.tags[i] for i in path] == ["B-SIGN", "O", "O"] or TAGS.tags[path[1]] == "O"
    assert TAGS.tags[path[1]] == "O"
