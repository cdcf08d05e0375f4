"""Sub-token <-> word alignment on the real Gemma tokenizer: exact offsets, sub-tokens
that run over words, whitespace words, the context prefix, and gold tags of Docs."""

import spacy

from raredis_llm.tagger.alignment import Encoder, align_words, piece_labels, piece_spans
from raredis_llm.tagger.data import gold_items, words_of
from raredis_llm.tagger.tags import IGNORE, TagSet

NLP = spacy.blank("en")


def test_piece_spans_drop_the_leading_space():
    text = "a  disease"
    assert piece_spans(text, [(0, 1), (1, 3), (2, 10)]) == [(0, 1), None, (3, 10)]


def test_first_and_last_pieces_of_words(gemma_tokenizer):
    text = "Hypoadrenalism (ACTH-deficiency) causes  weakness."
    doc = NLP.make_doc(text)
    enc = gemma_tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    first, owner = align_words(text, words_of(doc), enc["offset_mapping"], "first")
    last, _ = align_words(text, words_of(doc), enc["offset_mapping"], "last")
    spans = piece_spans(text, enc["offset_mapping"])
    for tok, f, l in zip(doc, first, last):
        if tok.is_space:
            assert f == l == -1
            continue
        # the representative pieces lie inside the word (or overlap it) ...
        for j in (f, l):
            s, e = spans[j]
            assert s < tok.idx + len(tok.text) and e > tok.idx
        # ... the first starts where the word starts, the last ends where it ends
        assert spans[f][0] <= tok.idx and spans[l][1] >= tok.idx + len(tok.text)
    hypo = [t.text for t in doc].index("Hypoadrenalism")
    assert first[hypo] == 0 and last[hypo] > 0  # several pieces
    assert owner[0] == hypo


def test_a_piece_over_two_words_serves_both():
    text = "ab cd"
    words = [(0, 1), (1, 2), (3, 5)]  # "a", "b", "cd"
    first, owner = align_words(text, words, [(0, 2), (2, 5)], "first")
    assert first == [0, 0, 1] and owner == [0, 2]


def test_context_prefix_and_word_indices(gemma_tokenizer):
    encoder = Encoder(gemma_tokenizer, "first", max_length=64)
    text = "Fabry disease causes pain."
    words = words_of(NLP.make_doc(text))
    plain = encoder.encode(text, words)
    ctx = encoder.encode(text, words, context="Fabry disease is a rare disorder.")
    assert plain.input_ids[0] == gemma_tokenizer.bos_token_id and plain.n_prefix == 1
    assert ctx.n_prefix > plain.n_prefix
    assert ctx.input_ids[ctx.n_prefix:] == plain.input_ids[1:]
    assert [j - ctx.n_prefix for j in ctx.word_index] == [j - 1 for j in plain.word_index]
    # the context gives way when the whole does not fit
    short = Encoder(gemma_tokenizer, "first", max_length=len(plain.input_ids) + 1)
    assert short.encode(text, words, context="A very long context " * 20).input_ids == plain.input_ids


def test_gold_items_align_entities_to_the_pipeline_tokens(gemma_tokenizer, tagger_docs):
    tags = TagSet(["RAREDISEASE", "SKINRAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"])
    docs = tagger_docs()
    items = gold_items(NLP, docs, Encoder(gemma_tokenizer), tags, all_pieces=True)
    first = items[0]
    words = [t.text for t in NLP.make_doc(docs[0].text)]
    got = [(w, tags.tags[t]) for w, t in zip(words, first.tags) if t not in (0, IGNORE)]
    assert got == [("Fabry", "B-RAREDISEASE"), ("disease", "I-RAREDISEASE"), ("pain", "B-SYMPTOM")]
    # every sub-token of an entity word is labelled, later ones as I-
    pieces = [tags.tags[t] for t in first.piece_tags if t != IGNORE]
    assert pieces[0] == "B-RAREDISEASE" and pieces.count("B-RAREDISEASE") == 1
    assert piece_labels(first.encoded, first.tags, tags) == first.piece_tags


def test_an_entity_inside_a_token_is_a_missing_value(gemma_tokenizer):
    """Gold tokens split "Hypoadrenalism" around an entity; the pipeline's tokenizer does
    not: the word is left out of the loss rather than taught a wrong tag."""
    from spacy.tokens import Doc

    tags = TagSet(["DISEASE"])
    gold = Doc(NLP.vocab, words=["Hypo", "adrenal", "ism", "is", "rare"], spaces=[False, False, True, True, False])
    gold.ents = [gold.char_span(4, 11, label="DISEASE")]
    assert [t.text for t in NLP.make_doc(gold.text)] == ["Hypoadrenalism", "is", "rare"]
    item = gold_items(NLP, [gold], Encoder(gemma_tokenizer), tags)[0]
    assert item.tags == [IGNORE, 0, 0]
