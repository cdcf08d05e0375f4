from raredis_llm.ner.finetuned import FinetunePrompt
from raredis_llm.finetune.data import collate, encode_record, plan_batches
from raredis_llm.finetune.instructions import docs_to_records
from raredis_llm.finetune.loss import IGNORE_INDEX, common_prefix_len


def test_plan_batches_is_seeded_complete_and_bucketed():
    lengths = [5, 50, 7, 48, 6, 49, 8, 47, 9, 46]
    a = plan_batches(lengths, batch_size=5, seed=1, epoch=0, bucket_size=2)
    assert a == plan_batches(lengths, batch_size=5, seed=1, epoch=0, bucket_size=2)
    assert a != plan_batches(lengths, batch_size=5, seed=1, epoch=1, bucket_size=2)
    assert sorted(i for b in a for i in b) == list(range(len(lengths)))
    # sorted by length inside the bucket: each batch is all short or all long
    for batch in a:
        assert len({lengths[i] > 20 for i in batch}) == 1


def test_response_only_labels_and_right_padding(sentence_docs, gemma_tokenizer):
    tokenizer = gemma_tokenizer
    prompt = FinetunePrompt("inline")
    records = docs_to_records(sentence_docs, prompt)
    feats = [encode_record(r, prompt, tokenizer) for r in records]
    for record, f in zip(records, feats):
        answer = [t for t in f.labels if t != IGNORE_INDEX]
        assert answer[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(answer[:-1]) == record["output"]
        n_prompt = f.labels.index(answer[0])
        # the prompt part is exactly how generation tokenizes the prompt
        assert f.input_ids[:n_prompt] == tokenizer(prompt.prompt(record["input"]))["input_ids"]
    batch = collate(feats, tokenizer.pad_token_id)
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert batch["attention_mask"].sum(1).tolist() == [len(f) for f in feats]
    n = common_prefix_len(batch["input_ids"], batch["attention_mask"], batch["labels"])
    # the shared prefix covers the instruction but never a response label
    assert n > len(tokenizer(prompt.instruction)["input_ids"]) // 2
    assert (batch["labels"][:, : n + 1] == IGNORE_INDEX).all()
