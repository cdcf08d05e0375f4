"""Tokenized training examples, length-bucketed batches, dynamic padding.

A record becomes ``[BOS] prompt`` (tokenized as the engines tokenize prompts at inference) followed by ``output`` and EOS. Labels are ``-100`` on
the prompt, so only the response (and its EOS) is learned.

Batches are planned per epoch from the seed alone (:func:`plan_batches`): shuffle,
sort by length inside chunks of ``bucket_size`` batches, cut into batches, shuffle the
batches. Padding is to the longest sequence of a batch, on the right, so all rows share
the instruction prefix from position 0 (see ``loss.common_prefix_len``).
"""

import random
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch

from .loss import IGNORE_INDEX
from ..ner.finetuned import FinetunePrompt


@dataclass
class Feature:
    input_ids: List[int]
    labels: List[int]

    def __len__(self) -> int:
        return len(self.input_ids)


def encode_record(record: Dict[str, str], prompt: FinetunePrompt, tokenizer, max_length: Optional[int] = None) -> Feature:
    """Tokenize one Alpaca record into input ids + labels (response-only)."""
    text = prompt.prompt(record["input"], instruction=record.get("instruction"))
    bos = tokenizer.bos_token
    prompt_ids = tokenizer(text, add_special_tokens=not (bos and text.startswith(bos)))["input_ids"]
    answer_ids = tokenizer(record["output"], add_special_tokens=False)["input_ids"]
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("The tokenizer has no EOS token: the model could not learn where to stop")
    answer_ids = list(answer_ids) + [eos]
    ids = list(prompt_ids) + answer_ids
    labels = [IGNORE_INDEX] * len(prompt_ids) + answer_ids
    if max_length is not None and len(ids) > max_length:
        ids, labels = ids[:max_length], labels[:max_length]
    return Feature(ids, labels)


def encode_records(records: Sequence[Dict[str, str]], prompt: FinetunePrompt, tokenizer,
                   max_length: Optional[int] = None) -> List[Feature]:
    feats = [encode_record(r, prompt, tokenizer, max_length) for r in records]
    return feats


def plan_batches(lengths: Sequence[int], batch_size: int, seed: int, epoch: int,
                 bucket_size: int = 50, shuffle: bool = True) -> List[List[int]]:
    """Indices of each batch of one epoch; a pure function of its arguments."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = list(range(len(lengths)))
    rng = random.Random(seed * 100_003 + epoch)
    if shuffle:
        rng.shuffle(order)
    chunk = max(1, bucket_size) * batch_size
    batches: List[List[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    if shuffle:
        rng.shuffle(batches)
    return batches


def collate(features: Sequence[Feature], pad_id: int) -> Dict[str, torch.Tensor]:
    """Right-pad to the longest feature: input_ids, attention_mask, labels."""
    width = max(len(f) for f in features)
    ids = torch.full((len(features), width), int(pad_id), dtype=torch.long)
    labels = torch.full((len(features), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for row, f in enumerate(features):
        n = len(f)
        ids[row, :n] = torch.tensor(f.input_ids, dtype=torch.long)
        labels[row, :n] = torch.tensor(f.labels, dtype=torch.long)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
