"""The type mapping learned from gold Docs (hand-made here; the training split in use)."""

from raredis_llm.knowledge.typemap import TypeMap

from tests.knowledge.kb_data import gold_doc as gold


DOCS = [
    gold("Fabry disease causes pain.", [("Fabry disease", "RAREDISEASE"), ("pain", "SYMPTOM")]),
    gold("In Fabry disease, pain in the hands is common.", [("Fabry disease", "RAREDISEASE"), ("pain", "SYMPTOM")]),
    gold("Burning pain and fever occur.", [("Burning pain", "SYMPTOM"), ("fever", "SIGN")]),
    gold("Pain relief is the aim.", []),
    gold("Seizures occur; seizures recur.", [("Seizures", "SIGN"), ("seizures", "SIGN")]),
    gold("Fever again.", [("Fever", "SIGN")]),
]


def test_defaults_before_learning(real_matcher):
    types = TypeMap()
    concept = real_matcher.concepts[real_matcher.index["ORPHA:324"]]
    assert types.group(concept) == "orphanet_disease" and types.label(concept) == "RAREDISEASE"
    seizure = real_matcher.concepts[real_matcher.index["HP:0001250"]]
    assert types.group(seizure) == "hpo:HP:0000707" and types.label(seizure) == "SIGN"
    assert TypeMap(labels=["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]).default_label("orphanet_disease_skin") == "RAREDISEASE"


def test_learned_per_concept_and_per_group(real_matcher):
    types = TypeMap(min_precision=0.4)
    stats = types.learn(real_matcher, DOCS)
    assert stats["docs"] == len(DOCS) and stats["matches"] == 10
    pain = real_matcher.concepts[real_matcher.index["HP:0012531"]]
    # pain: 2 x SYMPTOM, 2 x no entity (inside "Burning pain"; "Pain relief") -> SYMPTOM at 0.4
    assert types.label(pain) == "SYMPTOM"
    assert round(types.distribution(pain)["SYMPTOM"], 2) == 0.41
    assert types.label(real_matcher.concepts[real_matcher.index["ORPHA:324"]]) == "RAREDISEASE"
    assert types.label(real_matcher.concepts[real_matcher.index["HP:0001945"]]) == "SIGN"
    # a stricter threshold drops pain
    types.min_precision = 0.5
    assert types.label(pain) is None
    again = TypeMap().from_dict(types.to_dict())
    assert again.label(pain) is None and again.concept_dist == types.concept_dist
    assert [row[0] for row in types.table()] == sorted(stats["groups"])
