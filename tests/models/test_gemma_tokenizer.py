"""The offline Gemma folder tokenizes exactly as llama.cpp tokenizes the same GGUF.

transformers' GGUF conversion builds a Unigram tokenizer from Gemma's BPE vocabulary
(models/gemma_tokenizer.py explains); the cached folder carries the rebuilt BPE one.
llama.cpp reads the GGUF's own tokenizer, so it is the reference.
"""

import json

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from raredis_llm.models.gemma_tokenizer import needs_rebuild, rebuild_as_bpe
from raredis_llm.models.offline import gemma_gguf_path, gemma_hf_folder

EDGE_CASES = [
    "Every patient with everything",
    "  two leading spaces and  double   spaces ",
    "Line one\nline two\n\nand a tab\there",
    "Naïve café, α-thalassemia, β2-microglobulin, 5‰ of births, 🙂 and 中文",
    "SCID (severe combined immunodeficiency) affects < 1/100,000 newborns.",
    "",
]


@pytest.fixture(scope="module")
def tokenizers():
    from llama_cpp import Llama
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(gemma_hf_folder()))
    llama = Llama(model_path=str(gemma_gguf_path()), vocab_only=True, verbose=False)
    return hf, llama


def llama_ids(llama, text):
    return llama.tokenize(text.encode("utf8"), add_bos=False, special=False)


@pytest.mark.slow
def test_cached_folder_is_bpe():
    assert not needs_rebuild(gemma_hf_folder())
    data = json.loads((gemma_hf_folder() / "tokenizer.json").read_text(encoding="utf8"))
    assert data["model"]["type"] == "BPE" and data["model"]["byte_fallback"]


@pytest.mark.slow
def test_matches_llama_cpp_on_edge_cases(tokenizers):
    hf, llama = tokenizers
    for text in EDGE_CASES:
        ids = hf(text, add_special_tokens=False)["input_ids"]
        assert ids == llama_ids(llama, text), text
        assert hf.decode(ids) == text
    assert len(hf(" every", add_special_tokens=False)["input_ids"]) == 1
    # the BOS the prompt builder relies on is still added
    assert hf("x")["input_ids"][0] == hf.bos_token_id


@pytest.mark.slow
def test_matches_llama_cpp_on_corpus_sentences(tokenizers, converted_corpus):
    hf, llama = tokenizers
    out, _ = converted_corpus
    docs = list(DocBin().from_disk(out / "test.spacy").get_docs(Vocab()))
    texts = [doc.text for doc in docs]
    assert len(texts) > 800
    mismatches = [t for t in texts if hf(t, add_special_tokens=False)["input_ids"] != llama_ids(llama, t)]
    assert mismatches == []


def test_rebuild_leaves_non_unigram_alone(tmp_path):
    from tokenizers import Tokenizer, models

    Tokenizer(models.BPE(vocab={"a": 0, "<unk>": 1}, merges=[], unk_token="<unk>")).save(str(tmp_path / "tokenizer.json"))
    before = (tmp_path / "tokenizer.json").read_text()
    assert not needs_rebuild(tmp_path)
    assert rebuild_as_bpe(tmp_path) is False
    assert (tmp_path / "tokenizer.json").read_text() == before


def test_rebuild_turns_unigram_into_bpe(tmp_path):
    """A tiny Unigram model whose scores are merge ranks, as transformers writes Gemma's."""
    from tokenizers import Tokenizer, models, normalizers

    pieces = [("<pad>", 0.0), ("<eos>", 0.0), ("<bos>", 0.0), ("<unk>", 0.0),
              ("▁", -1.0), ("e", -2.0), ("v", -3.0), ("r", -4.0), ("y", -5.0),
              ("▁e", -6.0), ("▁ev", -7.0), ("er", -8.0), ("▁ever", -9.0), ("▁every", -10.0),
              ("ve", -11.0), ("ry", -12.0), ("▁▁", -100.0)]
    unigram = Tokenizer(models.Unigram(pieces, unk_id=3))
    unigram.normalizer = normalizers.Replace(" ", "▁")
    unigram.save(str(tmp_path / "tokenizer.json"))
    data = json.loads((tmp_path / "tokenizer.json").read_text())
    data["added_tokens"] = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": True} for i, c in enumerate(["<pad>", "<eos>", "<bos>", "<unk>"])]
    (tmp_path / "tokenizer.json").write_text(json.dumps(data))
    assert needs_rebuild(tmp_path)
    assert rebuild_as_bpe(tmp_path) is True
    bpe = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    assert json.loads(bpe.to_str())["model"]["type"] == "BPE"
    assert bpe.encode(" every").tokens == ["▁every"]
    # a run of spaces is one token (its rank is raised to the top), then the word
    assert bpe.encode("  every").tokens == ["▁▁", "e", "v", "er", "y"]
    assert bpe.decode(bpe.encode(" every").ids) == " every"
