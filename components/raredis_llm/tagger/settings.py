"""Settings of the tagger (registered, chosen in ``configs/tagger_*.cfg``) and the one
function that builds the network from them.

A tagger config has ``[paths]`` (``train``, ``validation``, ``output``, and ``knowledge``:
the saved dictionary pipeline that annotates knowledge features), ``[model]``
(``raredis.TaggerModel.v1``: base LLM, layers, attention, word piece, context, knowledge
features),
``[lora]`` (``raredis.LoraAdapter.v1``, shared with the generative fine-tuning) and
``[training]`` (``raredis.TaggerTraining.v1``). Every value can be overridden on the
command line (``--training.max_steps 10``).
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from spacy.util import load_config, registry

from ..models.lora_settings import LoraSettings
from ..labels import LABELS
from .alignment import WORD_PIECES
from .data import CONTEXT_MODES
from .model import ATTENTION_MODES

SUBTOKEN_LABELS = ("word", "all")


@dataclass
class TaggerModelSettings:
    base_model: str = "offline:gemma-3-270m"
    #: decoder layers used (0: all)
    num_layers: int = 0
    #: LoRA on layers >= lora_from; the layers below are frozen
    lora_from: int = 0
    attention: str = "bidirectional"
    #: layers below this index keep the causal mask ("bidirectional" only)
    bidirectional_from: int = 0
    word_piece: str = "first"
    context: str = "none"
    labels: List[str] = field(default_factory=lambda: list(LABELS))
    dropout: float = 0.1
    max_length: int = 512
    device: str = "auto"
    dtype: str = "auto"
    attn_implementation: str = "sdpa"
    local_files_only: bool = True
    #: the head reads per-word knowledge features: begin/inside indicators of the
    #: dictionary matches in doc.spans[knowledge_key] labelled knowledge_labels
    knowledge: bool = False
    knowledge_key: str = "raredis_kb"
    knowledge_labels: List[str] = field(default_factory=lambda: list(LABELS))

    @property
    def n_features(self) -> int:
        return 2 * len(self.knowledge_labels) if self.knowledge else 0

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "TaggerModelSettings":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@registry.misc("raredis.TaggerModel.v1")
def make_tagger_model_settings(
    base_model: str = "offline:gemma-3-270m",
    num_layers: int = 0,
    lora_from: int = 0,
    attention: str = "bidirectional",
    bidirectional_from: int = 0,
    word_piece: str = "first",
    context: str = "none",
    labels: List[str] = list(LABELS),
    dropout: float = 0.1,
    max_length: int = 512,
    device: str = "auto",
    dtype: str = "auto",
    attn_implementation: str = "sdpa",
    local_files_only: bool = True,
    knowledge: bool = False,
    knowledge_key: str = "raredis_kb",
    knowledge_labels: List[str] = list(LABELS),
) -> TaggerModelSettings:
    """The tagger network: which decoder LLM, how many of its layers, where LoRA goes,
    causal or bidirectional attention, which sub-token represents a word, whether the
    document's first sentence is read as context, and whether the head reads knowledge
    features (the dictionary's matches, ``[paths] knowledge``; labels: RareDis types or
    concept groups)."""
    if knowledge:
        from ..knowledge.features import span_labels_of

        span_labels_of(knowledge_labels)
    if attention not in ATTENTION_MODES:
        raise ValueError(f"attention must be one of {ATTENTION_MODES}, not {attention!r}")
    if word_piece not in WORD_PIECES:
        raise ValueError(f"word_piece must be one of {WORD_PIECES}, not {word_piece!r}")
    if context not in CONTEXT_MODES:
        raise ValueError(f"context must be one of {CONTEXT_MODES}, not {context!r}")
    return TaggerModelSettings(base_model, num_layers, lora_from, attention, bidirectional_from, word_piece,
                               context, list(labels), dropout, max_length, device, dtype,
                               attn_implementation, local_files_only, knowledge, knowledge_key,
                               list(knowledge_labels))


@dataclass
class TaggerTrainingSettings:
    seed: int = 0
    max_steps: int = 1000
    #: 0: no cap by epochs
    max_epochs: float = 0.0
    #: padded sub-tokens per batch (batch size x longest item)
    batch_tokens: int = 2048
    learning_rate: float = 2e-4
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 20
    scheduler: str = "linear"
    max_grad_norm: float = 1.0
    #: "word": loss on each word's representative sub-token; "all": on every sub-token
    subtoken_labels: str = "word"
    #: gold projection of the training data (null: doc.ents as converted)
    projection: Optional[str] = None
    eval_every: int = 100
    #: validation sentences scored during training (0: all), a fixed seeded sample
    eval_n: int = 0
    #: evaluations without improvement before stopping (0: never)
    patience: int = 0
    checkpoint_every: int = 100
    #: torch threads (0: the usable cores)
    num_threads: int = 0
    #: the frozen layers' output (below model.lora_from) computed once per training sentence
    #: and reused every step, instead of recomputed at each step (same loss, less work)
    cache_frozen: bool = True
    #: loss weight of each label's B/I tags (labels not named: 1.0; O: 1.0)
    label_weights: Dict[str, float] = field(default_factory=dict)
    #: training sentences holding a label are seen this many times per epoch
    oversample: Dict[str, int] = field(default_factory=dict)
    #: a wall-clock safety stop (0: none); the run is decided by steps, a stop by the clock
    #: is logged loudly and marked in the metadata
    max_minutes: float = 0.0

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@registry.misc("raredis.TaggerTraining.v1")
def make_tagger_training_settings(
    seed: int = 0,
    max_steps: int = 1000,
    max_epochs: float = 0.0,
    batch_tokens: int = 2048,
    learning_rate: float = 2e-4,
    head_learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
    warmup_steps: int = 20,
    scheduler: str = "linear",
    max_grad_norm: float = 1.0,
    subtoken_labels: str = "word",
    projection: Optional[str] = None,
    eval_every: int = 100,
    eval_n: int = 0,
    patience: int = 0,
    checkpoint_every: int = 100,
    num_threads: int = 0,
    cache_frozen: bool = True,
    label_weights: Dict[str, float] = {},
    oversample: Dict[str, int] = {},
    max_minutes: float = 0.0,
) -> TaggerTrainingSettings:
    """Optimisation (AdamW, LoRA and head learning rates, warm-up + linear/cosine/constant
    schedule), step and epoch caps, batches by sub-tokens, validation F1 for selection;
    what lifts rare labels (``label_weights`` in the loss, ``oversample`` sentences that
    hold them); ``cache_frozen``: the frozen lower layers run once per sentence;
    ``max_minutes``: a safety stop by the clock, never what decides a normal run."""
    for what, table in (("label_weights", label_weights), ("oversample", oversample)):
        bad = [k for k in table if k not in LABELS]
        if bad:
            raise ValueError(f"training.{what}: unknown labels {bad} (labels: {list(LABELS)})")
    if any(float(v) <= 0 for v in label_weights.values()):
        raise ValueError(f"training.label_weights must be > 0, not {dict(label_weights)}")
    if any(int(v) != v or int(v) < 1 for v in oversample.values()):
        raise ValueError(f"training.oversample takes whole factors >= 1, not {dict(oversample)}")
    if scheduler not in ("linear", "cosine", "constant"):
        raise ValueError(f"scheduler must be linear, cosine or constant, not {scheduler!r}")
    if subtoken_labels not in SUBTOKEN_LABELS:
        raise ValueError(f"subtoken_labels must be one of {SUBTOKEN_LABELS}, not {subtoken_labels!r}")
    if projection is not None:
        from ..corpus.project import get_policy

        get_policy(projection)
    return TaggerTrainingSettings(seed, max_steps, max_epochs, batch_tokens, learning_rate, head_learning_rate,
                                  weight_decay, warmup_steps, scheduler, max_grad_norm, subtoken_labels, projection,
                                  eval_every, eval_n, patience, checkpoint_every, num_threads, bool(cache_frozen),
                                  {k: float(v) for k, v in label_weights.items()},
                                  {k: int(v) for k, v in oversample.items()}, float(max_minutes))


@dataclass
class TaggerSetup:
    train_path: Optional[str]
    validation_path: Optional[str]
    output_dir: str
    model: TaggerModelSettings
    lora: LoraSettings
    training: TaggerTrainingSettings
    config_text: str = ""
    #: saved pipeline with the raredis_dictionary that annotates knowledge features
    knowledge_path: Optional[str] = None


def load_setup(path: Union[str, Path], overrides: Optional[Dict[str, Any]] = None) -> TaggerSetup:
    """Read and resolve a tagger config (``--section.key value`` overrides applied)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Tagger config not found: {path}")
    config = load_config(path, overrides=overrides or {}, interpolate=True)
    for section in ("paths", "model", "lora", "training"):
        if section not in config:
            raise ValueError(f"{path}: missing section [{section}]")
    resolved = registry.resolve({k: config[k] for k in ("model", "lora", "training")})
    paths = config["paths"]
    model, training = resolved["model"], resolved["training"]
    if model.knowledge and not paths.get("knowledge"):
        raise ValueError(f"{path}: model.knowledge = true needs [paths] knowledge, a saved pipeline with "
                         "raredis_dictionary (training/dictionary after `spacy project run dictionary`)")
    if model.knowledge and training.subtoken_labels != "word":
        raise ValueError(f"{path}: knowledge features are per word: they need training.subtoken_labels = \"word\"")
    return TaggerSetup(paths.get("train"), paths.get("validation"), paths["output"], model,
                       resolved["lora"], training, config.to_str(),
                       paths.get("knowledge") if model.knowledge else None)


def lora_layers(model: TaggerModelSettings, lora: LoraSettings, total_layers: int) -> List[int]:
    """Layer indices that get LoRA: ``lora.layers_to_transform`` or ``[lora_from, num_layers)``."""
    n = total_layers if model.num_layers <= 0 else min(model.num_layers, total_layers)
    if lora.layers_to_transform:
        bad = [i for i in lora.layers_to_transform if not model.lora_from <= i < n]
        if bad:
            raise ValueError(f"LoRA layers {bad} lie outside [lora_from={model.lora_from}, num_layers={n})")
        return sorted(lora.layers_to_transform)
    return list(range(model.lora_from, n))


def build_tagger(model: TaggerModelSettings, lora: Optional[LoraSettings], log=print) -> Tuple[Any, Any]:
    """``(DecoderTagger, tokenizer)``: the base decoder (shared loader: offline aliases,
    local folders, HF ids from the local cache), its layers cut, LoRA added, a new head."""
    from ..models.loading import decoder_and_head, load_causal_lm
    from .model import DecoderTagger, add_lora, lora_config
    from .tags import TagSet

    lm, tokenizer = load_causal_lm(model.base_model, device=model.device, dtype=model.dtype,
                                   local_files_only=model.local_files_only,
                                   attn_implementation=model.attn_implementation, log=log)
    base = decoder_and_head(lm)[0]
    total = len(base.layers)
    tagger = DecoderTagger(base, len(TagSet(model.labels)), model.num_layers, model.lora_from, model.attention,
                           model.bidirectional_from, model.dropout, model.n_features)
    del lm  # the LM head (tied to the embeddings) is never used
    if lora is not None:
        layers = lora_layers(model, lora, total)
        add_lora(tagger, lora_config(lora.r, lora.alpha, lora.dropout, lora.target_modules, layers))
    tagger.head.to(tagger.device)
    tokenizer.padding_side = "right"
    return tagger, tokenizer
