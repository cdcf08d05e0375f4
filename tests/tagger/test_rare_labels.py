"""What lifts the rare labels in training: loss weights per label, oversampled sentences."""

import pytest
import torch

from raredis_llm.tagger.data import Item
from raredis_llm.tagger.alignment import Encoded
from raredis_llm.tagger.settings import make_tagger_training_settings
from raredis_llm.tagger.tags import IGNORE, TagSet
from raredis_llm.tagger.trainer import oversampled, tag_loss, tag_weights

TAGS = TagSet(["RAREDISEASE", "SKINRAREDISEASE", "SIGN"])


def _item(tags):
    ids = [TAGS.index[t] if t not in ("-",) else IGNORE for t in tags]
    return Item(Encoded(list(range(len(tags))), list(range(len(tags)))), ids)


def test_tag_weights_weigh_both_tags_of_a_label():
    w = tag_weights(TAGS, {"SKINRAREDISEASE": 4.0})
    assert dict(zip(TAGS.tags, w.tolist())) == {"O": 1.0, "B-RAREDISEASE": 1.0, "I-RAREDISEASE": 1.0,
                                                 "B-SKINRAREDISEASE": 4.0, "I-SKINRAREDISEASE": 4.0,
                                                 "B-SIGN": 1.0, "I-SIGN": 1.0}
    assert tag_weights(TAGS, {}) is None


def test_a_weighted_label_counts_more_in_the_loss():
    scores = torch.zeros((1, 2, len(TAGS)))
    scores[0, 0, TAGS.index["B-SKINRAREDISEASE"]] = -2.0  # the skin word is badly scored
    labels = torch.tensor([[TAGS.index["B-SKINRAREDISEASE"], 0]])
    plain = float(tag_loss(scores, labels))
    weighted = float(tag_loss(scores, labels, tag_weights(TAGS, {"SKINRAREDISEASE": 3.0})))
    assert weighted > plain  # the badly scored position weighs 3 of 4 instead of 1 of 2


def test_oversampling_repeats_the_sentences_that_hold_a_label():
    items = [_item(["B-RAREDISEASE", "O"]), _item(["B-SKINRAREDISEASE", "I-SKINRAREDISEASE"]),
             _item(["O", "-"]), _item(["B-SKINRAREDISEASE", "B-SIGN"])]
    assert oversampled(items, TAGS, {}) == [0, 1, 2, 3]
    assert oversampled(items, TAGS, {"SKINRAREDISEASE": 3}) == [0, 1, 1, 1, 2, 3, 3, 3]
    assert oversampled(items, TAGS, {"SKINRAREDISEASE": 2, "SIGN": 3}) == [0, 1, 1, 2, 3, 3, 3]


@pytest.mark.parametrize("kwargs, message", [
    ({"label_weights": {"SKIN": 2.0}}, "unknown labels"),
    ({"oversample": {"SIGN": 1.5}}, "whole factors"),
    ({"label_weights": {"SIGN": 0}}, "> 0"),
])
def test_bad_rare_label_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_tagger_training_settings(**kwargs)
