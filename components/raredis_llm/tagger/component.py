"""``raredis_llm_tagger``: a decoder LLM fine-tuned as a token classifier, as a spaCy NER component.

One forward pass per sentence, no generation: each Doc is cut into sentences
(``doc.sents`` when set, else the corpus's sentence rule), each sentence (with the
document's first sentence as context when the model was trained with it) is encoded,
the tag scores of its words are decoded under the IOB2 constraints and written to
``doc.ents`` as token spans, so character offsets are exact.

Context: ``doc.user_data["raredis_context"]`` when present (the converted corpus sets
it on every sentence Doc), else the Doc's own first sentence.

Knowledge features: a tagger trained with ``model.knowledge = true`` reads the matches
of a ``raredis_dictionary`` that runs before it (``write_ents = false``, ``spans_key =
knowledge_key``); the saved pipeline holds that dictionary, so ``spacy.load`` needs no
knowledge base.

Saved pipelines hold the LoRA weights (``lora.safetensors``), the head
(``head.safetensors``) and ``cfg.json`` with a *reference* to the base model, never its
weights; the base is resolved on first use like every model of this project (offline
alias, local folder, or a Hugging Face id from the local cache unless
``allow_download = true``).
"""

import json
import logging
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import ensure_path, minibatch

from ..corpus import schema
from ..models.lora_settings import LoraSettings
from ..labels import LABELS
from ..pipeline.sentences import sentence_spans
from .settings import TaggerModelSettings

logger = logging.getLogger(__name__)

CFG_FILE = "cfg.json"
LORA_FILE = "lora.safetensors"
HEAD_FILE = "head.safetensors"

#: architecture settings: fixed by the trained weights (cfg.json wins over the config)
ARCH_KEYS = ("base_model", "num_layers", "lora_from", "attention", "bidirectional_from", "word_piece",
             "context", "labels", "max_length", "knowledge", "knowledge_key", "knowledge_labels")

DEFAULT_CONFIG = {
    "base_model": "offline:gemma-3-270m",
    "num_layers": 0,
    "lora_from": 0,
    "attention": "bidirectional",
    "bidirectional_from": 0,
    "word_piece": "first",
    "context": "none",
    "labels": list(LABELS),
    "max_length": 512,
    "knowledge": False,
    "knowledge_key": "raredis_kb",
    "knowledge_labels": list(LABELS),
    "batch_tokens": 4096,
    "use_doc_sents": True,
    "overwrite_ents": True,
    "device": "auto",
    "dtype": "auto",
    "num_threads": 0,
    "merge_lora": True,
    "allow_download": False,
    "scorer": {"@scorers": "spacy.ner_scorer.v1"},
}


def save_weights(model, path: Path) -> None:
    """LoRA weights and head of a :class:`~.model.DecoderTagger` as safetensors files."""
    from safetensors.torch import save_file

    from .model import lora_state_dict

    path.mkdir(parents=True, exist_ok=True)
    save_file(lora_state_dict(model), str(path / LORA_FILE))
    save_file({k: v.detach().cpu().contiguous() for k, v in model.head.state_dict().items()}, str(path / HEAD_FILE))


def load_weights(model, path: Path, merge_scale: Optional[float] = None) -> None:
    """Read saved LoRA weights and head into ``model``: into its injected adapters, or,
    with ``merge_scale`` (LoRA's alpha / r), added to the base weights of a model without
    adapters (inference: one matrix product per projection)."""
    from safetensors.torch import load_file

    from .model import load_lora_state_dict

    for name in (LORA_FILE, HEAD_FILE):
        if not (path / name).exists():
            raise FileNotFoundError(f"{path / name} is missing (not a saved raredis_llm_tagger)")
    lora = load_file(str(path / LORA_FILE))
    if lora and merge_scale is not None:
        from ..models.loading import merge_lora_tensors

        merge_lora_tensors(model, lora, merge_scale)
    elif lora:
        load_lora_state_dict(model, lora)
    model.head.load_state_dict(load_file(str(path / HEAD_FILE)))


class RareDisLLMTagger:
    """The ``raredis_llm_tagger`` pipe (see the module docstring)."""

    def __init__(self, nlp: Language, name: str = "raredis_llm_tagger", *, settings: TaggerModelSettings,
                 batch_tokens: int = 4096, use_doc_sents: bool = True, overwrite_ents: bool = True,
                 num_threads: int = 0, merge_lora: bool = True, allow_download: bool = False,
                 scorer: Optional[Callable] = None):
        if batch_tokens < 1:
            raise ValueError(f"batch_tokens must be >= 1, not {batch_tokens}")
        self.nlp = nlp
        self.name = name
        self.settings = settings
        self.batch_tokens = batch_tokens
        self.use_doc_sents = use_doc_sents
        self.overwrite_ents = overwrite_ents
        self.num_threads = num_threads
        self.merge_lora = merge_lora
        self.allow_download = allow_download
        self.scorer = scorer
        self.lora: Optional[Dict[str, Any]] = None  # LoRA settings the weights were trained with
        self._weights_dir: Optional[Path] = None
        self._model = None
        self._tokenizer = None
        self._encoder = None
        from .tags import TagSet

        self.tags = TagSet(settings.labels)

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.settings.labels)

    # ------------------------------------------------------------------ model
    def set_model(self, model, tokenizer, lora: Optional[LoraSettings]) -> None:
        """Use an in-memory trained model (the trainer saves pipelines this way)."""
        from .alignment import Encoder

        self._model, self._tokenizer = model, tokenizer
        self._encoder = Encoder(tokenizer, self.settings.word_piece, self.settings.max_length)
        self.lora = lora.to_dict() if lora is not None else None

    def load(self) -> "RareDisLLMTagger":
        """Load the base model and the saved weights now (otherwise done on first use)."""
        if self._model is None:
            import torch

            from ..models.precision import resolve_threads
            from .settings import build_tagger

            if self._weights_dir is None:
                raise ValueError(f"{self.name}: no trained weights; train with scripts/train_tagger.py "
                                 "or load a saved pipeline")
            if self.num_threads:
                torch.set_num_threads(resolve_threads(self.num_threads))
            settings = TaggerModelSettings.from_dict(
                dict(self.settings.to_dict(), local_files_only=not self.allow_download))
            lora = LoraSettings(**self.lora) if self.lora else None
            merge = self.merge_lora and lora is not None
            model, tokenizer = build_tagger(settings, None if merge else lora, log=logger.info)
            load_weights(model, self._weights_dir, merge_scale=lora.alpha / lora.r if merge else None)
            model.eval()
            self.set_model(model, tokenizer, lora)
        return self

    # ------------------------------------------------------------------ processing
    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc], batch_size=1))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            docs = list(docs)
            self.set_annotations(docs, self.predict(docs))
            yield from docs

    def _context(self, doc: Doc, sents: Sequence[Tuple[int, int]]) -> Optional[str]:
        if self.settings.context == "none":
            return None
        given = doc.user_data.get(schema.CONTEXT)
        if given:
            return given
        return doc.text[sents[0][0]:sents[0][1]] if sents else None

    def _units(self, doc: Doc) -> List[Tuple[int, int, Optional[str]]]:
        """``(start_token, end_token, context)`` of each sentence, cut into pieces that
        fit ``max_length`` sub-tokens."""
        sents = sentence_spans(doc, self.use_doc_sents)
        context = self._context(doc, sents)
        units = []
        for s, e in sents:
            span = doc.char_span(s, e, alignment_mode="expand")
            if span is None or not len(span):
                continue
            units.extend((a, b, context) for a, b in self._fit(doc, span.start, span.end))
        return units

    def _fit(self, doc: Doc, start: int, end: int) -> List[Tuple[int, int]]:
        text = doc[start:end].text
        n = len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        if n + 1 <= self.settings.max_length or end - start < 2:
            return [(start, end)]
        mid = (start + end) // 2
        return self._fit(doc, start, mid) + self._fit(doc, mid, end)

    def predict(self, docs: Sequence[Doc]) -> List[List[Tuple[int, int, str]]]:
        """Token spans ``(start, end, label)`` per Doc."""
        from .data import Item, word_features
        from .predict import predict_items

        self.load()
        s = self.settings
        jobs, items = [], []
        for i, doc in enumerate(docs):
            feats = word_features(doc, s.knowledge_key, s.knowledge_labels) if s.knowledge else None
            for start, end, context in self._units(doc):
                span = doc[start:end]
                base = span.start_char
                words = [(t.idx - base, t.idx - base + len(t.text)) for t in span]
                items.append(Item(self._encoder.encode(span.text, words, context),
                                  features=feats[start:end] if feats is not None else None))
                jobs.append((i, start))
        spans = predict_items(self._model, self._tokenizer, self.tags, items, self.batch_tokens)
        out: List[List[Tuple[int, int, str]]] = [[] for _ in docs]
        for (i, start), found in zip(jobs, spans):
            out[i].extend((start + a, start + b, label) for a, b, label in found)
        return out

    def set_annotations(self, docs: Sequence[Doc], spans: Sequence[Sequence[Tuple[int, int, str]]]) -> None:
        for doc, found in zip(docs, spans):
            ents = [Span(doc, s, e, label=label) for s, e, label in found]
            if self.overwrite_ents:
                doc.ents = ents
            else:
                taken = {t for ent in doc.ents for t in range(ent.start, ent.end)}
                doc.set_ents([x for x in ents if not any(t in taken for t in range(x.start, x.end))],
                             default="unmodified")

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        if self.scorer is None:
            from spacy.scorer import get_ner_prf

            return get_ner_prf(examples)
        return self.scorer(examples, **kwargs)

    def initialize(self, get_examples: Optional[Callable] = None, *, nlp: Optional[Language] = None) -> None:
        """Nothing to initialize: the weights come from scripts/train_tagger.py."""

    # ------------------------------------------------------------------ serialization
    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self._weights_dir is not None:  # loaded from disk (its model may hold merged weights)
            if self._weights_dir.resolve() != path.resolve():
                import shutil

                for name in (LORA_FILE, HEAD_FILE):
                    shutil.copyfile(self._weights_dir / name, path / name)
        elif self._model is not None:  # trained in memory
            save_weights(self._model, path)
        else:
            raise ValueError(f"{self.name}: nothing to save (no trained weights)")
        cfg = {"model": {k: getattr(self.settings, k) for k in ARCH_KEYS}, "lora": self.lora}
        (path / CFG_FILE).write_text(json.dumps(cfg, indent=2), encoding="utf8")

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "RareDisLLMTagger":
        path = ensure_path(path)
        cfg_path = path / CFG_FILE
        if not cfg_path.exists():
            raise FileNotFoundError(f"{self.name}: {cfg_path} is missing (not a saved raredis_llm_tagger)")
        cfg = json.loads(cfg_path.read_text(encoding="utf8"))
        self.settings = TaggerModelSettings.from_dict(dict(self.settings.to_dict(), **cfg["model"]))
        from .tags import TagSet

        self.tags = TagSet(self.settings.labels)
        self.lora = cfg.get("lora")
        self._weights_dir = path
        self._model = None
        self._tokenizer = None
        return self


def component_config(settings: TaggerModelSettings, **runtime) -> Dict[str, Any]:
    """The factory config for a tagger with these model settings."""
    cfg = {k: getattr(settings, k) for k in ARCH_KEYS}
    cfg.update(device=settings.device, dtype=settings.dtype)
    cfg.update(runtime)
    return cfg


def make_pipeline(settings: TaggerModelSettings, model, tokenizer, lora: Optional[LoraSettings] = None,
                  knowledge: Optional[Language] = None, **runtime) -> Language:
    """A blank English pipeline holding the trained tagger (what the trainer saves), after
    the components of ``knowledge`` (the dictionary that annotates its knowledge features)."""
    import spacy

    from ..packaging import requirements_for

    nlp = spacy.blank("en")
    for name in (knowledge.pipe_names if knowledge is not None else ()):
        nlp.add_pipe(name, source=knowledge)
    pipe = nlp.add_pipe("raredis_llm_tagger", config=component_config(settings, **runtime))
    pipe.set_model(model, tokenizer, lora)
    nlp.meta.update({
        "name": "raredis_llm_tagger",
        "description": ("RareDis NER (rare diseases, diseases, signs, symptoms): a decoder LLM "
                        f"({settings.base_model}) fine-tuned with LoRA as a token classifier "
                        f"({settings.attention} attention), spaCy component raredis_llm_tagger"),
        "author": "raredis_llm",
        "license": "MIT",
        "requirements": requirements_for(settings.base_model),
        "labels": {"raredis_llm_tagger": list(settings.labels)},
        **({"raredis_knowledge": {"components": knowledge.pipe_names, "spans_key": settings.knowledge_key,
                                  "labels": list(settings.knowledge_labels)}} if knowledge is not None else {}),
    })
    return nlp


@Language.factory(
    "raredis_llm_tagger",
    default_config=DEFAULT_CONFIG,
    assigns=["doc.ents"],
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_raredis_llm_tagger(
    nlp: Language,
    name: str,
    base_model: str,
    num_layers: int,
    lora_from: int,
    attention: str,
    bidirectional_from: int,
    word_piece: str,
    context: str,
    labels: List[str],
    max_length: int,
    knowledge: bool,
    knowledge_key: str,
    knowledge_labels: List[str],
    batch_tokens: int,
    use_doc_sents: bool,
    overwrite_ents: bool,
    device: str,
    dtype: str,
    num_threads: int,
    merge_lora: bool,
    allow_download: bool,
    scorer: Optional[Callable],
) -> RareDisLLMTagger:
    """A decoder LLM with LoRA and a BIO head tagging RareDis entities, one forward pass
    per sentence. The architecture settings (base_model ... knowledge_labels; knowledge:
    the head reads a preceding raredis_dictionary's matches in doc.spans[knowledge_key])
    are those the weights were trained with and are read back from the saved component; batch_tokens
    (padded sub-tokens per forward pass), use_doc_sents, overwrite_ents, device, dtype
    ("auto": bf16 where computed natively), num_threads (0: torch's default), merge_lora
    (fold the adapters into the base weights when loading: faster, rounds once more in
    bf16) and allow_download are run-time choices."""
    settings = TaggerModelSettings(base_model=base_model, num_layers=num_layers, lora_from=lora_from,
                                   attention=attention, bidirectional_from=bidirectional_from,
                                   word_piece=word_piece, context=context, labels=list(labels),
                                   max_length=max_length, device=device, dtype=dtype, knowledge=knowledge,
                                   knowledge_key=knowledge_key, knowledge_labels=list(knowledge_labels))
    return RareDisLLMTagger(nlp, name, settings=settings, batch_tokens=batch_tokens, use_doc_sents=use_doc_sents,
                            overwrite_ents=overwrite_ents, num_threads=num_threads, merge_lora=merge_lora,
                            allow_download=allow_download, scorer=scorer)
