"""Inference of the tagger: encoded items -> word spans, in length-sorted batches."""

from typing import List, Sequence, Tuple

import numpy as np
import torch

from .data import Item, collate, plan_batches
from .tags import TagSet


@torch.no_grad()
def predict_items(model, tokenizer, tags: TagSet, items: Sequence[Item], batch_tokens: int = 2048
                  ) -> List[List[Tuple[int, int, str]]]:
    """``(start_word, end_word, label)`` spans per item (input order), by constrained
    decoding of the tag scores; words without a sub-token are outside every span."""
    out: List[List[Tuple[int, int, str]]] = [[] for _ in items]
    if not items:
        return out
    was_training = model.training
    model.eval()
    try:
        lengths = [len(it) for it in items]
        for batch in plan_batches(lengths, batch_tokens, seed=0, epoch=0, bucket=len(items), shuffle=False):
            chunk = [items[i] for i in batch]
            tensors = collate(chunk, tokenizer.pad_token_id, model.device)
            scores = model(tensors["input_ids"], tensors["attention_mask"], tensors["word_index"],
                           tensors.get("word_features"))
            log_probs = torch.log_softmax(scores, dim=-1).cpu().numpy()
            mask = tensors["word_mask"].cpu().numpy()
            for row, i in enumerate(batch):
                n = len(items[i].encoded.word_index)
                path = tags.decode(log_probs[row, :n], active=mask[row, :n].astype(bool))
                out[i] = tags.spans(path)
    finally:
        model.train(was_training)
    return out


