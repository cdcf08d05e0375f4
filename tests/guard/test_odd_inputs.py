"""Input of any shape through every pipeline we train (CNN, transformer; tiny, real),
with the guards: valid entities inside the text, no overlaps, none across a line break,
markup or a bullet, no exception; the issue's examples; 50,000 words without a cut."""

import pytest
import spacy
from hypothesis import HealthCheck, given, settings, strategies as st

import raredis_llm.baselines  # noqa: F401
from raredis_llm.annotate.engines import SpacyEngine
from raredis_llm.guard import add_guards
from raredis_llm.guard.boundaries import barrier_tokens

ISSUE_EXAMPLES = {
    "bullets": "Findings:\n- ataxia\n- seizures\n- hypotonia\n\nDx: Rett syndrome.",
    "html": "<p>Pompe disease</p><br/><b>muscle weakness</b>",
    "caps": "PT IS A 34 YO F W/ HX OF MARFAN SYNDROME",
    "control": "Patients with Gaucher\x07 disease have splenomegaly.",
    "empty": "",
    "whitespace": " \n\t \r\n ",
    "one_word": "Fabry",
    "non_ascii": "Sjögren syndrome, β-thalassemia, café-au-lait spots 😀 \u2028 and Ménière disease.",
}
WORDS = ["Fabry", "disease", "syndrome", "Rett", "Pompe", "muscle", "weakness", "pain", "fever", "ataxia",
         "seizures", "ACTH", "deficiency", "rare", "the", "of", "and", "patients", "with", "no", "denies",
         "(", ")", ",", ".", ":", "-", "β-thalassemia", "Sjögren", "MARFAN", "SYNDROME", "PT", "HX", "W/"]
JUNK = [" ", " ", " ", "\n", "\n\n", "\r\n", "\t", "- ", "\n- ", "\n* ", "\n• ", "\n1. ", "<p>", "</p>", "<br/>",
        "<b>", "</b>", "&nbsp;", "\x00", "\x07", "\x0b", "\u2028", "😀", "é"]
TEXTS = st.one_of(
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(JUNK)), max_size=60).map("".join),
    st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join).map(str.upper),
    st.text(max_size=200),
)


def load(path):
    nlp = spacy.load(path)
    add_guards(nlp)
    return nlp


@pytest.fixture(scope="module")
def pipelines(tiny_cnn, tiny_trf):
    return {"cnn": load(tiny_cnn), "trf": load(tiny_trf)}


def check(doc, text):
    assert doc.text == text
    last = 0
    barriers = barrier_tokens(doc)
    for ent in doc.ents:
        assert last <= ent.start_char < ent.end_char <= len(text)
        last = ent.end_char
        assert text[ent.start_char:ent.end_char] == ent.text
        assert not any(i in barriers for i in range(ent.start, ent.end)), ent.text
        assert ent.text == ent.text.strip() and any(ch.isalnum() for ch in ent.text)


@pytest.mark.parametrize("name", ["cnn", "trf"])
@pytest.mark.parametrize("case", sorted(ISSUE_EXAMPLES))
def test_issue_examples(pipelines, name, case):
    text = ISSUE_EXAMPLES[case]
    doc = pipelines[name](text)
    check(doc, text)
    if case == "html":
        assert all("<" not in e.text and ">" not in e.text for e in doc.ents)


@pytest.mark.parametrize("name,n", [("cnn", 150), pytest.param("trf", 40, marks=pytest.mark.slow)])
def test_random_text(pipelines, name, n):
    nlp = pipelines[name]

    @settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(TEXTS)
    def run(text):
        check(nlp(text), text)

    run()


def test_the_cnn_does_tag_the_random_text(pipelines):
    """The property test above is only worth something if the pipeline tags such text."""
    doc = pipelines["cnn"]("Patients with ACTH deficiency have pain .\n- Fabry disease\n<b>Rett syndrome</b>")
    assert len(doc.ents) > 0


#: repeated to 50,000 words; the tiny CNN tags entities in every copy (see the test above)
FIFTY_K = "Patients with ACTH deficiency have pain .\n- Fabry disease\n<b>Rett syndrome</b>\n"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "trf"])
def test_fifty_thousand_words_whole(pipelines, name):
    sentence = FIFTY_K
    n_words = len(sentence.split())
    copies = 50_000 // n_words + 1
    text = sentence * copies
    assert len(text.split()) >= 50_000
    engine = SpacyEngine(pipelines[name])
    results = engine.run([(0, text)])
    try:
        seq, doc, err = next(results)  # a Doc is valid until the next result: check it now
        assert err is None
        check(doc, text)
        last_word = next(t for t in reversed(doc) if not t.is_space)
        assert last_word.idx + len(last_word) == len(text.rstrip())  # tagged to the last word
        if name == "cnn":  # the same words in the same context: the same entities, start to end
            width = len(sentence)
            per_copy = {}
            for e in doc.ents:
                per_copy.setdefault(e.start_char // width, []).append((e.start_char % width, e.end_char % width, e.label_))
            assert per_copy.get(1) and per_copy.get(1) == per_copy.get(copies - 2)
        else:  # the transformer saw every token of the tagged Doc, up to the last one
            lengths = doc._.trf_data.align.lengths
            # every word has word pieces, the last one too (white-space tokens have none)
            assert len(lengths) == len(doc) and min(n for n, t in zip(lengths, doc) if not t.is_space) > 0
        assert next(results, None) is None
    finally:
        results.close()
        engine.close()


@pytest.mark.slow
def test_one_sentence_longer_than_the_transformer_window(pipelines):
    text = ", ".join(["fatigue", "ataxia", "Fabry disease", "pain"] * 600) + "."
    nlp = pipelines["trf"]
    check(nlp(text), text)
    trf = nlp.get_pipe("transformer")
    doc = trf(nlp.make_doc(text))
    assert doc._.trf_data.align.lengths[-2] > 0
