"""Training and inference inputs of the tagger: Docs -> encoded items -> padded batches.

Training items come from converted gold Docs: the text is tokenized by the pipeline's
tokenizer (the words the component tags at run time), the gold entities (optionally
re-projected, ``corpus/project.py``) are aligned to those words as spaCy aligns them
for its own NER (an entity that is not a run of words is a missing value, never a
wrong label), and each word gets a BIO tag id. Batches are length-bucketed: items are
shuffled with the seed, cut into chunks, sorted by length within a chunk and grouped
under a sub-token budget, so padding stays small and the order is reproducible.

Knowledge features (optional): a per-word matrix of the dictionary's matches
(``word_features``), computed on the same pipeline tokens, travels with each item.
"""

import random
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..corpus import schema
from ..corpus.docs import reproject
from .alignment import Encoded, Encoder, piece_labels
from .tags import IGNORE, TagSet

CONTEXT_MODES = ("none", "first_sentence")


@dataclass
class Item:
    encoded: Encoded
    #: per word: gold tag id (IGNORE: misaligned, missing or whitespace); None at inference
    tags: Optional[List[int]] = None
    piece_tags: Optional[List[int]] = None
    #: per word: knowledge features (n_words, n_features), when the model reads them
    features: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.encoded)


def words_of(doc: Doc) -> List[Tuple[int, int]]:
    return [(t.idx, t.idx + len(t.text)) for t in doc]


def word_features(doc: Doc, key: str, labels: Sequence[str]) -> np.ndarray:
    """``(len(doc), 2 * len(labels))``: begin/inside indicators of the matches a
    ``raredis_dictionary`` wrote to ``doc.spans[key]`` (an error names the Doc if none ran)."""
    from ..knowledge.features import feature_matrix

    if key not in doc.spans:
        raise ValueError(f"No doc.spans[{key!r}] in {doc.text[:60]!r}: this tagger reads knowledge features; "
                         f"run raredis_dictionary (write_ents = false, spans_key = {key!r}) before it")
    return feature_matrix(doc, key, labels)


def knowledge_annotator(knowledge: bool, path: Optional[str], key: str, labels: Sequence[str]
                        ) -> Tuple[Language, Optional[Callable[[Doc], np.ndarray]]]:
    """The pipeline that makes a tagger's training Docs, and their per-word knowledge
    features: a blank English pipeline and None without ``knowledge``; with it, the
    dictionary of the saved pipeline at ``path`` writing ``doc.spans[key]``, and
    :func:`word_features` for ``labels``."""
    import spacy

    if not knowledge:
        return spacy.blank("en"), None
    from ..knowledge.features import load_feature_pipeline

    nlp = load_feature_pipeline(path, key, labels)
    return nlp, lambda doc: word_features(doc, key, labels)


def context_of(doc: Doc, mode: str) -> Optional[str]:
    """The context text for ``doc`` (``doc.user_data[CONTEXT]``, the converter's first
    sentence of the document) or None."""
    if mode not in CONTEXT_MODES:
        raise ValueError(f"context must be one of {CONTEXT_MODES}, not {mode!r}")
    if mode == "none":
        return None
    return doc.user_data.get(schema.CONTEXT) or None


def gold_items(
    nlp: Language,
    docs: Iterable[Doc],
    encoder: Encoder,
    tags: TagSet,
    context: str = "none",
    projection: Optional[str] = None,
    all_pieces: bool = False,
    features: Optional[Callable[[Doc], np.ndarray]] = None,
) -> List[Item]:
    """Encoded training/validation items of gold Docs (see the module docstring);
    ``features``: the per-word knowledge features of a Doc of ``nlp``'s tokens (``nlp``
    then runs its pipeline, the dictionary, on each text)."""
    items = []
    for gold in docs:
        if projection is not None:
            gold = reproject(gold, projection)
        pred = nlp(gold.text) if features is not None else nlp.make_doc(gold.text)
        for ent in gold.ents:  # gold Docs may come with another vocab
            pred.vocab.strings.add(ent.label_)
        biluo = Example(pred, gold).get_aligned_ner()
        word_tags = tags.from_biluo(biluo)
        for i, tok in enumerate(pred):
            if tok.is_space:
                word_tags[i] = IGNORE
        enc = encoder.encode(gold.text, words_of(pred), context_of(gold, context))
        word_tags = [t if j >= 0 else IGNORE for t, j in zip(word_tags, enc.word_index)]
        items.append(Item(enc, word_tags, piece_labels(enc, word_tags, tags) if all_pieces else None,
                          features(pred) if features is not None else None))
    return items


def plan_batches(lengths: Sequence[int], max_tokens: int, seed: int, epoch: int, bucket: int = 64,
                 shuffle: bool = True) -> List[List[int]]:
    """Index batches whose padded size (``n x longest``) stays within ``max_tokens``."""
    order = list(range(len(lengths)))
    if shuffle:
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
    batches: List[List[int]] = []
    for start in range(0, len(order), bucket):
        chunk = sorted(order[start:start + bucket], key=lambda i: lengths[i])
        batch: List[int] = []
        longest = 0
        for i in chunk:
            new_longest = max(longest, lengths[i])
            if batch and new_longest * (len(batch) + 1) > max_tokens:
                batches.append(batch)
                batch, new_longest = [], lengths[i]
            batch.append(i)
            longest = new_longest
        if batch:
            batches.append(batch)
    if shuffle:
        random.Random(seed * 7_919 + epoch).shuffle(batches)
    return batches


def collate(items: Sequence[Item], pad_id: int, device=None) -> dict:
    """Right-padded tensors: input_ids, attention_mask, word_index (-1 -> 0, masked by
    word_mask), the gold tags when the items have them, and word_features (zeros for
    padding) when they carry knowledge features."""
    width = max(len(it) for it in items)
    n_words = max(1, max(len(it.encoded.word_index) for it in items))
    b = len(items)
    input_ids = torch.full((b, width), pad_id, dtype=torch.long)
    attention = torch.zeros((b, width), dtype=torch.long)
    word_index = torch.zeros((b, n_words), dtype=torch.long)
    word_mask = torch.zeros((b, n_words), dtype=torch.bool)
    labels = torch.full((b, n_words), IGNORE, dtype=torch.long)
    piece_labels_ = torch.full((b, width), IGNORE, dtype=torch.long)
    for r, it in enumerate(items):
        ids = it.encoded.input_ids
        input_ids[r, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention[r, :len(ids)] = 1
        wi = it.encoded.word_index
        if wi:
            idx = torch.tensor(wi, dtype=torch.long)
            word_mask[r, :len(wi)] = idx >= 0
            word_index[r, :len(wi)] = idx.clamp(min=0)
        if it.tags is not None and it.tags:
            labels[r, :len(it.tags)] = torch.tensor(it.tags, dtype=torch.long)
        if it.piece_tags is not None:
            piece_labels_[r, :len(it.piece_tags)] = torch.tensor(it.piece_tags, dtype=torch.long)
    out = {"input_ids": input_ids, "attention_mask": attention, "word_index": word_index,
           "word_mask": word_mask, "labels": labels, "piece_labels": piece_labels_}
    if items[0].features is not None:
        feats = torch.zeros((b, n_words, items[0].features.shape[1]), dtype=torch.float32)
        for r, it in enumerate(items):
            feats[r, :len(it.features)] = torch.from_numpy(np.asarray(it.features, dtype=np.float32))
        out["word_features"] = feats
    if device is not None:
        out = {k: v.to(device) for k, v in out.items()}
    return out
