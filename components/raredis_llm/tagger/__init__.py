"""The LLM as a tagger: label-supervised LoRA fine-tuning of a decoder LLM with a BIO head
(Li et al. 2023), causal or bidirectional attention, as the spaCy component
``raredis_llm_tagger``.

Modules: ``tags`` (BIO tag set, constrained decoding), ``alignment`` (sub-tokens <->
words), ``data`` (gold items, length-bucketed batches), ``model`` (the network, masks,
LoRA), ``settings`` (registered settings, building the network), ``trainer`` (training
loop), ``predict`` (batched inference), ``component`` (the spaCy pipe).
"""
