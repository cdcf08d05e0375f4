"""LoRA fine-tuning of a causal LM for RareDis NER.

Importing this package registers ``raredis.FinetunePrompt.v1``, ``raredis.LoraBaseModel.v1``,
``raredis.LoraTraining.v1`` and ``raredis.LoraEvaluation.v1`` (the sections of
``configs/finetune_*.cfg``; the adapter section, ``raredis.LoraAdapter.v1``, is shared with
the tagger and lives in :mod:`raredis_llm.models.lora_settings`).

* :mod:`.instructions`  Alpaca records (one per sentence) from the sentence DocBins
* :mod:`.data`          tokenization (response-only labels), length-bucketed batches
* :mod:`.loss`          response-only loss (LM head on response positions only)
* :mod:`.lora`          base model loading (dtype auto, optional 4-bit on CUDA) + LoRA
* :mod:`.trainer`       training loop: validation, early stopping, checkpoints, resume
* :mod:`.metadata`      hashes and the ``metadata.json`` of a run
"""

from raredis_llm.finetune import lora, settings  # noqa: F401
from raredis_llm.models import lora_settings  # noqa: F401
from raredis_llm.finetune.settings import FinetuneSetup, load_setup, make_finetune_prompt  # noqa: F401
