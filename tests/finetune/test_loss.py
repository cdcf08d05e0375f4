"""The response-only loss is the naive full-vocabulary loss, computed faster.

This is what makes the speed-up honest: same loss value and same LoRA gradients as
``model(input_ids, labels=labels).loss`` on a decoder with Gemma 3's layout (the tiny one), with and without the
shared-prefix trick, on a right-padded batch of unequal lengths.
"""

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model

from raredis_llm.ner.finetuned import FinetunePrompt
from raredis_llm.finetune.data import collate, encode_record
from raredis_llm.finetune.instructions import docs_to_records
from raredis_llm.finetune.loss import common_prefix_len, full_logits_loss, response_only_loss


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def test_response_only_loss_equals_full_logits_loss(sentence_docs, tiny_lm):
    base, tokenizer = tiny_lm
    base = copy.deepcopy(base).double()  # float64: a random decoder's small gradients, compared exactly
    prompt = FinetunePrompt("inline", prompt_style="alpaca")  # the long instruction: a real shared prefix
    feats = [encode_record(r, prompt, tokenizer) for r in docs_to_records(sentence_docs[:3], prompt)]
    batch = collate(feats, tokenizer.pad_token_id)
    assert len({len(f) for f in feats}) > 1  # padding is exercised
    torch.manual_seed(0)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            lora_dropout=0.0, init_lora_weights=False))
    try:
        model.train()
        args = (batch["input_ids"], batch["attention_mask"], batch["labels"])
        naive = full_logits_loss(model, *args)
        naive.backward()
        naive = naive.detach()
        naive_grads = _grads(model)
        model.zero_grad()
        prefix = common_prefix_len(*args)
        assert prefix > 50
        for shared in (0, prefix):
            fast = response_only_loss(model, *args, shared_prefix_len=shared)
            fast.backward()
            assert float(fast.detach()) == pytest.approx(float(naive), rel=1e-4, abs=1e-5)
            for name, grad in _grads(model).items():
                # shared=0 is bit-identical here; the broadcast prefix only reorders float sums
                rel = float((grad - naive_grads[name]).norm() / naive_grads[name].norm())
                assert rel < 1e-4, (name, shared, rel)
            model.zero_grad()
        with torch.no_grad():
            summed = response_only_loss(model, *args, reduction="sum")
        n_tokens = int((batch["labels"][:, 1:] != -100).sum())
        assert float(summed) / n_tokens == pytest.approx(float(naive), rel=1e-4)
    finally:
        model.unload()


def test_shared_prefix_must_not_reach_the_response(tiny_lm):
    base, _ = tiny_lm
    ids = torch.tensor([[2, 10, 11, 12], [2, 10, 11, 13]])
    labels = torch.tensor([[-100, -100, 11, 12], [-100, -100, 11, 13]])
    with pytest.raises(ValueError, match="response"):
        response_only_loss(base, ids, torch.ones_like(ids), labels, shared_prefix_len=3)
