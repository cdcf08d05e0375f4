"""Which decoder layers carry the entity information: linear probes per layer.

One frozen forward pass (no LoRA, the LM's causal mask) over a sample of training and
validation sentences collects every layer's representation of each word; a head
(LayerNorm + linear, as the tagger's) is trained on each layer alone and scored by
exact-span F1 on the validation sample after constrained decoding. Cheap (one forward
pass per sentence, no backward through the LLM), so it guides ``num_layers`` and
``lora_from`` before any fine-tuning. With ``knowledge`` the head also reads the items'
knowledge features (the dictionary's matches), as the tagger's head does: the probe with
and without them measures what they add to a layer's frozen representation.
"""

import random
from typing import Dict, List, Sequence

import numpy as np
import torch

from .data import Item, collate, plan_batches
from .model import TaggerHead
from .tags import IGNORE, TagSet
from ..finetune.metrics import span_prf


@torch.no_grad()
def layer_features(model, tokenizer, items: Sequence[Item], layers: Sequence[int], batch_tokens: int = 2048,
                   progress: bool = True) -> Dict[int, List[np.ndarray]]:
    """Per layer (1-based: output of layer i), one ``(words, hidden)`` float32 array per item
    (float16 would overflow: decoder residual streams carry values beyond its range)."""
    feats: Dict[int, List[np.ndarray]] = {l: [None] * len(items) for l in layers}  # type: ignore[list-item]
    batches = plan_batches([len(it) for it in items], batch_tokens, 0, 0, bucket=len(items), shuffle=False)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="probe features", unit="sent")
    model.eval()
    for batch in batches:
        chunk = [items[i] for i in batch]
        t = collate(chunk, tokenizer.pad_token_id, model.device)
        outs = model.encode(t["input_ids"], t["attention_mask"], all_layers=True)
        for layer in layers:
            h = outs[layer - 1]
            picked = torch.gather(h, 1, t["word_index"][..., None].expand(-1, -1, h.shape[-1])).float()
            for row, i in enumerate(batch):
                n = len(items[i].encoded.word_index)
                feats[layer][i] = picked[row, :n].cpu().numpy()
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    return feats


def probe_layer(train_x: List[np.ndarray], train_items: Sequence[Item], val_x: List[np.ndarray],
                val_items: Sequence[Item], tags: TagSet, epochs: int = 8, lr: float = 3e-3, seed: int = 0,
                knowledge: bool = False) -> Dict:
    """Train a head on one layer's word features (and with ``knowledge`` the items' knowledge
    features); exact-span P/R/F on the validation items."""
    torch.manual_seed(seed)
    x = torch.from_numpy(np.concatenate(train_x).astype(np.float32))
    y = torch.tensor([t for it in train_items for t in it.tags], dtype=torch.long)
    n_features = train_items[0].features.shape[1] if knowledge else 0
    f = (torch.from_numpy(np.concatenate([it.features for it in train_items]).astype(np.float32)) if knowledge
         else torch.zeros((len(y), 0)))
    keep = y != IGNORE
    x, y, f = x[keep], y[keep], f[keep]
    head = TaggerHead(x.shape[1], len(tags), dropout=0.1, n_features=n_features)
    opt = torch.optim.AdamW(head.parameters(), lr=lr)
    order = list(range(len(y)))
    rng = random.Random(seed)
    head.train()
    for _ in range(epochs):
        rng.shuffle(order)
        for s in range(0, len(order), 256):
            idx = torch.tensor(order[s:s + 256])
            loss = torch.nn.functional.cross_entropy(head(x[idx], f[idx] if knowledge else None), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.eval()
    pred, gold = [], []
    with torch.no_grad():
        for feats, it in zip(val_x, val_items):
            extra = torch.from_numpy(it.features.astype(np.float32)) if knowledge else None
            lp = torch.log_softmax(head(torch.from_numpy(feats.astype(np.float32)), extra), -1).numpy()
            active = np.array([j >= 0 for j in it.encoded.word_index])
            pred.append(tags.spans(tags.decode(lp, active=active)))
            gold.append(tags.spans([0 if t == IGNORE else t for t in it.tags]))
    return span_prf(pred, gold)
