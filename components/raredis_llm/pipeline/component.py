"""``raredis_llm_ner``: a LoRA fine-tuned local causal LM as a spaCy NER component.

For each Doc the component cuts the text into sentences (:mod:`.sentences`), renders each
with the prompt the adapter was trained with (:class:`raredis_llm.ner.finetuned.FinetunePrompt`),
generates the answers of all sentences of a batch of Docs through its engine (in-process
``transformers`` or llama.cpp, or an OpenAI-compatible server: ``[...engine]``), and
writes ``doc.ents`` (:func:`raredis_llm.ner.ents.annotate`). Saved pipelines hold the
adapter (PEFT files, and its GGUF twin for llama.cpp) and a *reference* to the base
model, never its weights; the model is loaded on first use.
"""

import logging
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import ensure_path, minibatch

from ..models import specs  # noqa: F401  (registers the engine choices)
from ..models.engine import Constraint, Engine
from ..models.specs import EngineSpec
from ..ner.budget import answer_budget
from ..ner.ents import annotate, check_alignment_mode
from ..ner.finetuned import STOP, FinetunePrompt, read_adapter_info
from ..util import read_json, write_json, write_text
from .sentences import sentence_spans

logger = logging.getLogger(__name__)

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
    "batch_size": 16,
    "max_new_tokens_factor": 2.0,
    "max_new_tokens_cap": 512,
    "device": "auto",
    "dtype": "auto",
    "merge_adapter": True,
    "allow_download": False,
    "alignment_mode": "expand",
    "constrain": True,
    "window_chars": 1500,
    "engine": {"@misc": "raredis.TransformersEngine.v1"},
    "scorer": {"@scorers": "spacy.ner_scorer.v1"},
}


class RareDisLLMNER:
    """The ``raredis_llm_ner`` pipe (see :func:`make_raredis_llm_ner` for the settings)."""

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
        batch_size: int = 16,
        max_new_tokens_factor: float = 2.0,
        max_new_tokens_cap: int = 512,
        device: str = "auto",
        dtype: str = "auto",
        merge_adapter: bool = True,
        allow_download: bool = False,
        alignment_mode: str = "expand",
        constrain: bool = True,
        window_chars: int = 1500,
        engine: Optional[EngineSpec] = None,
        scorer: Optional[Callable] = None,
    ):
        check_alignment_mode(alignment_mode)
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
        # LoRA weights are always merged for inference (frozen weights: same answers);
        # the setting stays for configs that name it
        self.merge_adapter = merge_adapter
        self.allow_download = allow_download
        self.alignment_mode = alignment_mode
        self.constrain = constrain
        self.window_chars = window_chars
        self.engine_spec = engine or specs.make_transformers_engine()
        self.scorer = scorer
        # what the config says; the adapter's own record fills the gaps
        self._settings = {"base_model": base_model, "output_format": output_format, "labels": labels,
                          "instruction_template": instruction_template, "prompt_template": prompt_template}
        self._engine: Optional[Engine] = None
        self._set_adapter(adapter, info=None)

    # ------------------------------------------------------------------ settings
    def _set_adapter(self, adapter: Optional[Union[str, Path]], info: Optional[Dict[str, Any]],
                     templates: Optional[Dict[str, str]] = None) -> None:
        """Point at an adapter folder and rebuild the prompt from config + adapter record."""
        self.adapter = str(adapter) if adapter else None
        if info is None:
            info = read_adapter_info(adapter) if adapter and Path(adapter).exists() else {}
        self.adapter_info = dict(info)
        for kind, text in (templates or {}).items():  # texts saved with the pipeline win
            self.adapter_info[f"{kind}_template_text"] = text
        cfg = self._settings
        self.base_model = cfg["base_model"] or info.get("base_model") or DEFAULT_BASE
        self.prompt = FinetunePrompt.from_adapter_info(
            self.adapter_info, output_format=cfg["output_format"], labels=cfg["labels"],
            instruction_template=cfg["instruction_template"], prompt_template=cfg["prompt_template"])
        trained = info.get("prompt", {})
        if trained.get("instruction") and trained["instruction"] != self.prompt.instruction:
            logger.warning("%s: the instruction differs from the one the adapter was trained with", self.name)
        self._glue = tuple(self.prompt.format.constraint_strings(self.prompt.labels))
        self.close()

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.prompt.labels)

    # ------------------------------------------------------------------ engine
    @property
    def engine(self) -> Engine:
        """The model runner (built on first use; the model itself loads lazily too)."""
        if self._engine is None:
            if self.adapter is not None and not (Path(self.adapter) / "adapter_config.json").exists():
                raise FileNotFoundError(
                    f"{self.name}: no LoRA adapter (adapter_config.json) in {self.adapter}; "
                    "train one with scripts/finetune.py or set adapter = null for the base model")
            self._engine = self.engine_spec.build(
                base_model=self.base_model, adapter=self.adapter, device=self.device, dtype=self.dtype,
                batch_size=self.batch_size, local_files_only=not self.allow_download)
        return self._engine

    def load(self) -> "RareDisLLMNER":
        """Load the model (and the constraint vocabulary) now, otherwise done on first use."""
        engine = self.engine
        load = getattr(engine, "load", None)
        if load is not None:
            load()
        if self.constrain and engine.supports_constraint:
            engine.allowed_ids(Constraint((), self._glue))  # builds the token index once
        return self

    def close(self) -> None:
        if getattr(self, "_engine", None) is not None:
            self._engine.close()
        self._engine = None

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
        return sentence_spans(doc, self.use_doc_sents, self.window_chars)

    def requests(self, texts: Sequence[str]) -> Tuple[List[str], List[int], List[Optional[Constraint]]]:
        """Prompts, token budgets and constraints for sentences ``texts``."""
        engine = self.engine
        fmt = self.prompt.format
        prompts = [self.prompt.prompt(t) for t in texts]
        budgets = [answer_budget(engine.count_tokens(fmt.answer_reference(t)), ratio=self.max_new_tokens_factor,
                                 cap=self.max_new_tokens_cap) for t in texts]
        constraints = [Constraint((t,), self._glue) if self.constrain else None for t in texts]
        return prompts, budgets, constraints

    def predict(self, docs: Sequence[Doc]) -> List[List[Any]]:
        """For each Doc, the model's answer for each of its :meth:`sentences`."""
        jobs = [(i, s, e) for i, doc in enumerate(docs) for s, e in self.sentences(doc)]
        answers: List[Any] = []
        if jobs:
            prompts, budgets, constraints = self.requests([docs[i].text[s:e] for i, s, e in jobs])
            answers = self.engine.generate(prompts, budgets, stop=STOP, constraints=constraints)
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
            annotate(doc, [(s, e, a) for (s, e), a in zip(spans, doc_answers)], self.prompt.format,
                     self.prompt.labels, overwrite=self.overwrite_ents, alignment_mode=self.alignment_mode)

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
            _write_gguf_twin(target, self.base_model)
        else:
            shutil.rmtree(target, ignore_errors=True)
        write_text(self.prompt.instruction_template_text, path / INSTRUCTION_FILE)
        write_text(self.prompt.prompt_template_text, path / PROMPT_FILE)
        write_json({"base_model": self.base_model, "has_adapter": self.adapter is not None,
                    "output_format": self.prompt.output_format, "labels": list(self.prompt.labels),
                    "instruction": self.prompt.instruction, "adapter_info": self.adapter_info}, path / CFG_FILE)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "RareDisLLMNER":
        path = ensure_path(path)
        cfg_path = path / CFG_FILE
        if not cfg_path.exists():
            raise FileNotFoundError(f"{self.name}: {cfg_path} is missing (not a saved raredis_llm_ner)")
        cfg = read_json(cfg_path)
        adapter = path / ADAPTER_DIR if cfg.get("has_adapter") else None
        for key in ("base_model", "output_format", "labels"):  # the saved component fills the gaps
            if self._settings.get(key) is None:
                self._settings[key] = cfg.get(key)
        info = (read_adapter_info(adapter) if adapter is not None else {}) or cfg.get("adapter_info") or {}
        templates = {kind: (path / name).read_text(encoding="utf8")
                     for kind, name in (("instruction", INSTRUCTION_FILE), ("prompt", PROMPT_FILE))
                     if (path / name).exists()}
        for kind in templates:  # the saved texts win over template paths in the config
            self._settings[f"{kind}_template"] = None
        self._set_adapter(adapter, info=info, templates=templates)
        return self


def _write_gguf_twin(adapter: Path, base_model: str) -> None:
    """``adapter.gguf`` beside the PEFT files, so llama.cpp engines load the saved pipeline
    as it is; skipped (logged) when the base model's config is not available offline."""
    from ..models.lora_gguf import adapter_gguf
    from ..models.offline import resolve_model

    try:
        base = resolve_model(base_model, log=logger.info)
        if Path(base, "config.json").exists():
            adapter_gguf(adapter, base)
    except (OSError, ValueError, ImportError) as err:
        logger.info("No GGUF copy of the adapter written (%s); llama.cpp engines convert it on first use", err)


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
    constrain: bool,
    window_chars: int,
    engine: EngineSpec,
    scorer: Optional[Callable],
) -> RareDisLLMNER:
    """A LoRA fine-tuned causal LM tagging RareDis entities sentence by sentence.

    base_model: HF id, folder or offline alias (null: the adapter's base, else
        ``offline:gemma-3-270m``). adapter: PEFT adapter folder (null: the base alone).
    output_format / labels / *_template: null means "as the adapter was trained".
    overwrite_ents: replace doc.ents (true) or only add where no entity is (false).
    use_doc_sents: use doc.sents when set (else the corpus sentence rule); window_chars:
    longer sentences are cut into windows at whitespace. batch_size: sentences per
    generation batch. max_new_tokens_factor / _cap: the answer budget (factor x the
    answer reference's tokens + 48, at most cap). constrain: answers may only copy the
    sentence and the format's tags (also makes the output layer small). engine:
    raredis.TransformersEngine.v1 / raredis.LlamaCppEngine.v1 / raredis.OpenAIEngine.v1.
    device / dtype: "auto" = CUDA + bf16, else CPU with bf16 only where it is native.
    allow_download: let transformers download an HF base model.
    """
    return RareDisLLMNER(
        nlp, name, base_model=base_model, adapter=adapter, output_format=output_format, labels=labels,
        instruction_template=instruction_template, prompt_template=prompt_template,
        overwrite_ents=overwrite_ents, use_doc_sents=use_doc_sents, batch_size=batch_size,
        max_new_tokens_factor=max_new_tokens_factor, max_new_tokens_cap=max_new_tokens_cap,
        device=device, dtype=dtype, merge_adapter=merge_adapter, allow_download=allow_download,
        alignment_mode=alignment_mode, constrain=constrain, window_chars=window_chars, engine=engine,
        scorer=scorer,
    )
