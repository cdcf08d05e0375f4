"""The knowledge-base matcher on the real knowledge base."""

import spacy

from raredis_llm.knowledge.matcher import NAME, SYNONYM, VARIANT, KBMatcher

NLP = spacy.blank("en")


def found(matcher, text):
    doc = NLP(text)
    return [(doc[c.start:c.end].text, matcher.concepts[c.concept]["id"], c.quality)
            for c in matcher.resolve(matcher.candidates(doc))]


def test_case_hyphen_whitespace_plural_and_possessive_forms(real_matcher):
    assert found(real_matcher, "Ataxia telangiectasia, ATAXIA-TELANGIECTASIA and ataxia\u2013telangiectasia.") == [
        ("Ataxia telangiectasia", "ORPHA:100", NAME), ("ATAXIA-TELANGIECTASIA", "ORPHA:100", NAME),
        ("ataxia\u2013telangiectasia", "ORPHA:100", NAME)]
    assert found(real_matcher, "Seizures, fever and angiokeratomas in Sjögren's  syndrome.") == [
        ("Seizures", "HP:0001250", NAME), ("fever", "HP:0001945", NAME),
        ("angiokeratomas", "HP:0001014", NAME), ("Sjögren's  syndrome", "OMIM:270150", NAME)]


def test_longest_then_most_specific(real_matcher):
    # "Fabry disease" is ORPHA:324 and OMIM:301500 by name: Orphanet first
    assert found(real_matcher, "Fabry disease") == [("Fabry disease", "ORPHA:324", NAME)]
    # the longer name wins over the shorter one inside it
    assert found(real_matcher, "Charcot-Marie-Tooth disease type 1A") == [
        ("Charcot-Marie-Tooth disease type 1A", "ORPHA:101081", NAME)]
    # a synonym (Hearing loss) and a syndrome/disease variant (Alport disease)
    assert found(real_matcher, "Alport disease leads to hearing loss.") == [
        ("Alport disease", "ORPHA:63", VARIANT), ("hearing loss", "HP:0000365", SYNONYM)]


def test_no_match_inside_a_token(real_matcher):
    doc = NLP("The pain-2 score")  # one token, keys "pain" and "2": no match on a part
    assert len(doc) == 3 and real_matcher.candidates(doc) == []
    assert found(real_matcher, "The pain - 2 score") == [("pain", "HP:0012531", NAME)]


def test_serialization_round_trip(real_matcher):
    copy = KBMatcher(NLP.vocab).from_bytes(real_matcher.to_bytes())
    text = "Fabry disease causes burning pain and seizures."
    assert found(copy, text) == found(real_matcher, text)
    assert len(copy) == len(real_matcher) > 50_000
