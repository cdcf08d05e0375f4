"""Name normalisation and variants."""

import pytest

from raredis_llm.knowledge.names import capitalised_keys, doc_keys, name_variants, singular, token_keys


@pytest.mark.parametrize("word, expected", [
    ("seizures", "seizure"), ("diseases", "disease"), ("abnormalities", "abnormality"),
    ("headaches", "headache"), ("patches", "patch"), ("rashes", "rash"), ("reflexes", "reflex"),
    ("sclerosis", "sclerosis"), ("loss", "loss"), ("fetus", "fetus"), ("feet", "foot"),
    ("nevi", "nevus"), ("has", "has")])
def test_singular(word, expected):
    assert singular(word) == expected


@pytest.mark.parametrize("token, keys", [
    ("Ehlers-Danlos", ["ehler", "danlos"]), ("Sjögren", ["sjogren"]), ("'s", []), ("\u2019s", []),
    ("ALS", ["ALS"]), ("Als", ["als"]), ("COVID-19", ["COVID", "19"]), ("\n", []), ("-", []),
    ("and/or", ["and", "or"]), ("type\u20131", ["type", "1"]), ("1B.", ["1b"]), (".", ["."])])
def test_token_keys(token, keys):
    assert token_keys(token) == keys


def test_doc_keys_track_tokens():
    keys, owner, first, last = doc_keys(["Ehlers-Danlos", "syndrome", "\n", "(", "EDS", ")"])
    assert keys == ["ehler", "danlos", "syndrome", "(", "EDS", ")"]
    assert owner == [0, 0, 1, 3, 4, 5]
    assert first == [True, False, True, True, True, True]
    assert last == [False, True, True, True, True, True]


def test_capitalised_keys():
    assert capitalised_keys(["fabry", "disease"]) == ["FABRY", "disease"]
    assert capitalised_keys(["seizure"]) == ["seizure"]


@pytest.mark.parametrize("name, variants", [
    ("Fabry disease", ["Fabry syndrome"]),
    ("Alport syndrome", ["Alport disease"]),
    ("Retinitis pigmentosa 68", ["Retinitis pigmentosa"]),
    ("Hereditary angioedema type 1", ["Hereditary angioedema"]),
    ("Ehlers-Danlos syndrome, classic type", ["Ehlers-Danlos disease, classic type", "Ehlers-Danlos syndrome",
                                              "Ehlers-Danlos disease"]),
    ("Epilepsy, reading", []),  # a one-word head is too general to stand for the disease
    ("Seizure", []),
])
def test_name_variants(name, variants):
    assert name_variants(name) == variants
