"""Repair the tokenizer that ``transformers`` builds when it converts Gemma's GGUF.

Gemma 3's tokenizer is a SentencePiece **BPE** model. Its GGUF stores the vocabulary
and, as "scores", the merge ranks. transformers (4.53) rebuilds it as a **Unigram**
model over those scores, which segments many words into pieces the model never saw in
training (" every" -> " e" "ve" "ry") and makes prompts about twice as long as the
llama.cpp tokenization of the same GGUF. :func:`rebuild_as_bpe` rewrites
``tokenizer.json`` as the SentencePiece-BPE tokenizer the model was trained with:
merges regenerated from the vocabulary and the ranks, byte fallback, "▁" for spaces.
``tests/models/test_gemma_tokenizer.py`` checks it against llama.cpp token for token.
"""

import json
from pathlib import Path
from typing import Union

SPACE = "\u2581"  # "▁", SentencePiece's word-boundary marker


def needs_rebuild(folder: Union[str, Path]) -> bool:
    path = Path(folder) / "tokenizer.json"
    return json.loads(path.read_text(encoding="utf8"))["model"]["type"] == "Unigram"


def rebuild_as_bpe(folder: Union[str, Path]) -> bool:
    """Rewrite ``folder/tokenizer.json`` as SentencePiece-BPE; False if it already was not Unigram."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers
    from transformers.convert_slow_tokenizer import generate_merges

    path = Path(folder) / "tokenizer.json"
    data = json.loads(path.read_text(encoding="utf8"))
    if data["model"]["type"] != "Unigram":
        return False
    pieces = data["model"]["vocab"]
    vocab = {piece: i for i, (piece, _) in enumerate(pieces)}
    # Runs of "▁" are whole tokens in Gemma's vocabulary; give them the best rank so a run
    # of spaces merges the way SentencePiece merges it.
    scores = {piece: (0.0 if len(piece) > 1 and set(piece) == {SPACE} else score) for piece, score in pieces}
    tokenizer = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=generate_merges(vocab, scores),
            unk_token="<unk>",
            byte_fallback=True,
            fuse_unk=True,
        )
    )
    tokenizer.normalizer = normalizers.Replace(" ", SPACE)
    tokenizer.decoder = decoders.Sequence([decoders.Replace(SPACE, " "), decoders.ByteFallback(), decoders.Fuse()])
    tokenizer.post_processor = Tokenizer.from_file(str(path)).post_processor  # BOS handling as converted
    tokenizer.add_special_tokens(
        [
            AddedToken(
                tok["content"], special=tok["special"], normalized=tok["normalized"],
                lstrip=tok["lstrip"], rstrip=tok["rstrip"], single_word=tok["single_word"],
            )
            for tok in data["added_tokens"]
        ]
    )
    tokenizer.save(str(path))
    return True
