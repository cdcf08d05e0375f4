import pytest


@pytest.fixture(scope="session")
def untrained_adapter(tmp_path_factory):
    """A freshly initialised LoRA adapter for Gemma 3 270M (wiring tests only: it is the
    base model's behaviour, LoRA B = 0)."""
    from raredis_llm.finetune.lora import save_untrained_adapter

    return save_untrained_adapter(tmp_path_factory.mktemp("adapter") / "untrained-lora-adapter", log=lambda m: None)
