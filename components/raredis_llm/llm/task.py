"""``raredis.NER.v1``: the spacy-llm task for RareDis NER.

A sharding spacy-llm task (``generate_prompts`` / ``parse_responses``) that

* renders a Jinja2 prompt (``templates/ner.jinja``) with label definitions and rules from
  a YAML file (``templates/labels/raredis_5type.yml`` or ``raredis_4type.yml``), the
  instructions of an output format (``inline``, ``json``, ``bio``; see
  :mod:`raredis_llm.llm.formats`), optional few-shot examples from a selector
  (:mod:`raredis_llm.llm.examples`) and optional retrieved passages
  (:mod:`raredis_llm.llm.retrieval`, ``templates/rag_context.jinja``);
* parses answers with the format's parser into ``doc.ents`` (never raising on bad output)
  and records ``doc.user_data[PARSE_STATS]`` and ``doc.user_data[LLM_USAGE]``
  (keys in :mod:`raredis_llm.corpus.schema`);
* builds the example pool / knowledge base at ``initialize`` and saves them with the
  pipeline (``llm/task/cfg.json``, ``llm/task/examples/``, ``llm/task/retriever/``), so
  ``spacy.load`` recomputes nothing.

Initialization settings (``[initialize.components.llm]``)::

    labels = [...]                          # optional: overrides the task's labels
    [initialize.components.llm.examples]    # training sentences for few-shot selectors
    @readers = "spacy.Corpus.v1"            # (default: the get_examples nlp.initialize gets)
    path = ${paths.train}
    [initialize.components.llm.knowledge_base]  # training documents for the retriever
    @readers = "spacy.Corpus.v1"
    path = ${paths.train_docs}
"""

import hashlib
import json
import logging
import time
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from typing import Union, cast

import jinja2
import jinja2.sandbox
import srsly
from spacy import util
from spacy.language import Language
from spacy.scorer import get_ner_prf
from spacy.tokens import Doc
from spacy.training import Example
from spacy_llm.registry import registry as llm_registry
from spacy_llm.tasks.ner.util import reduce_shards_to_doc
from spacy_llm.tasks.util.sharding import make_shard_mapper
from spacy_llm.ty import Scorer, ShardMapper, ShardReducer
from spacy.util import registry

from ..corpus import schema
from ..labels import LABELS, MERGE_MAP
from .budget import Prompt
from .examples import ExampleSelector
from .formats import DEFAULT_FUZZY_THRESHOLD, add_stats, empty_stats, get_format
from .retrieval import Retriever

logger = logging.getLogger("raredis_llm")

USAGE_KEYS = ("prompt_tokens", "completion_tokens", "requests", "cache_hits")
DEFAULT_TEMPLATE = "ner.jinja"
DEFAULT_CONTEXT_TEMPLATE = "rag_context.jinja"
DEFAULT_ANSWER_STOP = ["\nText:", "\nNow annotate"]


# ------------------------------------------------------------------------ template files
def bundled_path(name: str) -> Path:
    """Path of a file in ``raredis_llm/templates/``."""
    return Path(str(resources.files("raredis_llm") / "templates" / name))


def read_template(path: Optional[Union[str, Path]], default: str) -> str:
    """Text of the template at ``path`` (a bundled one when ``path`` is None/empty)."""
    file = Path(path) if path else bundled_path(default)
    if not file.exists():
        raise FileNotFoundError(f"Prompt template not found: {file}")
    return file.read_text(encoding="utf8")


def default_definitions_path(labels: Sequence[str]) -> Path:
    """The bundled definitions file for a label set (4-type when SKINRAREDISEASE is absent)."""
    name = "raredis_5type.yml" if "SKINRAREDISEASE" in labels else "raredis_4type.yml"
    return bundled_path(f"labels/{name}")


def load_definitions(path: Optional[Union[str, Path]], labels: Sequence[str]) -> Dict[str, Any]:
    """Read a definitions YAML file: ``description`` (str), ``labels`` (LABEL: definition),
    ``guidelines`` (list of str). Errors name the file and the bad key."""
    file = Path(path) if path else default_definitions_path(labels)
    if not file.exists():
        raise FileNotFoundError(f"Label definitions file not found: {file}")
    try:
        data = srsly.read_yaml(file)
    except Exception as err:
        raise ValueError(f"{file}: not valid YAML ({err})") from err
    if not isinstance(data, Mapping):
        raise ValueError(f"{file}: expected a mapping with keys description, labels, guidelines")
    defs = data.get("labels") or {}
    guidelines = data.get("guidelines") or []
    description = data.get("description") or ""
    if not isinstance(defs, Mapping) or not all(isinstance(v, str) for v in defs.values()):
        raise ValueError(f"{file}: 'labels' must map each label to a definition string")
    if not isinstance(guidelines, list) or not all(isinstance(g, str) for g in guidelines):
        raise ValueError(f"{file}: 'guidelines' must be a list of strings")
    if not isinstance(description, str):
        raise ValueError(f"{file}: 'description' must be a string")
    missing = [label for label in labels if label not in defs]
    if missing:
        warnings.warn(f"{file}: no definition for label(s) {missing}")
    return {
        "description": " ".join(description.split()),
        "labels": {str(k): " ".join(v.split()) for k, v in defs.items()},
        "guidelines": [" ".join(g.split()) for g in guidelines],
        "source": str(file),
    }


def split_labels(labels: Union[str, Iterable[str]]) -> List[str]:
    if isinstance(labels, str):
        labels = labels.split(",")
    out: List[str] = []
    for label in labels:
        label = str(label).strip()
        if label and label not in out:
            out.append(label)
    return out


@registry.misc("raredis.LabelDefinitions.v1")
def make_label_definitions(path: Optional[str] = None,
                           labels: Union[str, List[str]] = list(LABELS)) -> Dict[str, str]:
    """``{label: definition}`` from a definitions file (for spacy-llm's built-in tasks)."""
    labels = split_labels(labels)
    defs = load_definitions(path, labels)["labels"]
    return {label: defs[label] for label in labels if label in defs}


@registry.misc("raredis.TaskDescription.v1")
def make_task_description(path: Optional[str] = None,
                          labels: Union[str, List[str]] = list(LABELS)) -> str:
    """Description + rules from a definitions file as one string (for spacy.NER.v3)."""
    data = load_definitions(path, split_labels(labels))
    return " ".join([data["description"], *data["guidelines"]]).strip()


# ---------------------------------------------------------------------------------- task
def _reference_docs(items: Iterable[Any]) -> List[Doc]:
    docs = []
    for item in items:
        doc = item.reference if isinstance(item, Example) else item
        if not isinstance(doc, Doc):
            raise TypeError(f"Expected spaCy Examples or Docs, got {type(item).__name__}")
        docs.append(doc)
    return docs


def _empty_usage() -> Dict[str, int]:
    return {key: 0 for key in USAGE_KEYS}


class RareDisNERTask:
    """Prompted NER over RareDis labels (see the module docstring)."""

    def __init__(
        self,
        labels: List[str],
        definitions: Dict[str, Any],
        template: str,
        context_template: str,
        output_format: str,
        examples: Optional[ExampleSelector],
        retriever: Optional[Retriever],
        label_map: Dict[str, str],
        alignment_mode: str,
        fuzzy_threshold: float,
        answer_stop: List[str],
        shard_mapper: ShardMapper,
        shard_reducer: ShardReducer,
        scorer: Scorer,
    ):
        if alignment_mode not in ("strict", "contract", "expand"):
            raise ValueError(f"alignment_mode must be strict, contract or expand, not {alignment_mode!r}")
        get_format(output_format)  # fail early on an unknown format
        self._labels = list(labels)
        self._definitions = definitions
        self._template = template
        self._context_template = context_template
        self._output_format = output_format
        self._examples = examples
        self._retriever = retriever
        self._label_map = dict(label_map)
        self._alignment_mode = alignment_mode
        self._fuzzy_threshold = float(fuzzy_threshold)
        self._answer_stop = list(answer_stop)
        self._shard_mapper = shard_mapper
        self._shard_reducer = shard_reducer
        self._scorer = scorer
        self._env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined)
        # Check the templates compile now rather than at the first doc.
        self._env.from_string(self._template)
        self._env.from_string(self._context_template)

    # -------------------------------------------------------------- labels (LabeledTask)
    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self._labels)

    def add_label(self, label: str, label_definition: Optional[str] = None) -> int:
        if not isinstance(label, str):
            raise ValueError("Labels must be strings")
        if label_definition is not None:
            self._definitions["labels"][label] = label_definition
        if label in self._labels:
            return 0
        self._labels.append(label)
        return 1

    def clear(self) -> None:
        self._labels = []

    @property
    def label_definitions(self) -> Dict[str, str]:
        return {label: self._definitions["labels"].get(label, "") for label in self._labels}

    @property
    def output_format(self) -> str:
        return self._output_format

    @property
    def examples(self) -> Optional[ExampleSelector]:
        return self._examples

    @property
    def retriever(self) -> Optional[Retriever]:
        return self._retriever

    def parser_labels(self) -> Dict[str, str]:
        """``{alias: label}`` the parser accepts (labels plus ``label_map`` into them)."""
        out = {label: label for label in self._labels}
        for alias, target in self._label_map.items():
            if target in self._labels:
                out.setdefault(alias, target)
        return out

    def map_spans(self, spans: Iterable[Sequence[Any]]) -> List[Tuple[int, int, str]]:
        """Gold spans as shown in prompts: ``label_map`` applied, other labels dropped."""
        out = []
        for start, end, label in spans:
            label = self._label_map.get(label, label)
            if label in self._labels:
                out.append((int(start), int(end), label))
        return out

    # ------------------------------------------------------------------------- prompts
    @property
    def prompt_template(self) -> str:
        """The template plus a fingerprint of everything else that shapes prompts (so
        spacy-llm's cache never mixes prompts of different configurations)."""
        return self._template + "\n{# raredis.NER.v1 " + self.fingerprint() + " #}"

    def fingerprint(self) -> str:
        data = {
            "labels": self._labels, "definitions": self.label_definitions,
            "guidelines": self._definitions["guidelines"],
            "description": self._definitions["description"],
            "context_template": self._context_template, "format": self._output_format,
            "examples": self._examples.cfg() if self._examples else None,
            "retriever": self._retriever.cfg() if self._retriever else None,
        }
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def _static_prompt_data(self) -> Dict[str, Any]:
        fmt = get_format(self._output_format)
        instructions = self._env.from_string(fmt.instructions).render(
            labels=self._labels, example_label=self._labels[0] if self._labels else "LABEL"
        )
        return {
            "description": self._definitions["description"],
            "labels": list(self._labels),
            "label_definitions": self.label_definitions,
            "guidelines": list(self._definitions["guidelines"]),
            "format_instructions": instructions,
            "output_format": self._output_format,
            "answer_sep": "\n" if self._output_format == "bio" else " ",
        }

    def render_examples(self, examples: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
        fmt = get_format(self._output_format)
        return [{"text": eg["text"], "answer": fmt.render(eg["text"], self.map_spans(eg["spans"])),
                 "score": eg.get("score")} for eg in examples]

    def render_context(self, passages: Sequence[Mapping[str, Any]]) -> str:
        if not passages:
            return ""
        annotated = bool(self._retriever is not None and self._retriever.annotated)
        inline = get_format("inline")
        items = [{**p, "text": p["text"], "doc_id": p.get("doc_id"), "score": p.get("score"),
                  "answer": inline.render(p["text"], self.map_spans(p["spans"])) if annotated else ""}
                 for p in passages]
        return self._env.from_string(self._context_template).render(passages=items).strip()

    def generate_prompts(
        self, docs: Iterable[Doc], context_length: Optional[int] = None
    ) -> Iterable[Tuple[Iterable[Any], Iterable[Doc]]]:
        """One prompt per doc (per shard when a context length forces sharding).

        Examples and passages are chosen per doc (for the cluster selector: per batch),
        before sharding; every shard of a doc shows the same ones.
        """
        docs = list(docs)
        selected = self._examples.select(docs) if self._examples else [[] for _ in docs]
        passages = self._retriever.retrieve(docs) if self._retriever else [[] for _ in docs]
        template = self._env.from_string(self._template)
        static = self._static_prompt_data()
        fmt = get_format(self._output_format)
        for i_doc, doc in enumerate(docs):
            data = {**static, "examples": self.render_examples(selected[i_doc]),
                    "context": self.render_context(passages[i_doc])}

            def render(shard: Doc, i_shard: int, i_doc: int, n_shards: int, data=data) -> Prompt:
                return Prompt(template.render(text=shard.text, **data), answer_reference=fmt.answer_reference(shard.text))

            shards = (list(self._shard_mapper(doc, i_doc, context_length, render))
                      if context_length is not None else [doc])
            yield [render(shard, i, i_doc, len(shards)) for i, shard in enumerate(shards)], shards

    # ------------------------------------------------------------------------- parsing
    def cut_answer(self, response: Any) -> str:
        """The answer part of a model response: up to the first ``answer_stop`` marker."""
        answer = "" if response is None else str(response)
        for stop in self._answer_stop:
            idx = answer.find(stop)
            if idx != -1:
                answer = answer[:idx]
        return answer

    def parse_doc(self, doc: Doc, response: Any) -> Dict[str, Any]:
        """Set ``doc.ents`` from one response; return the parse stats."""
        mode = self._alignment_mode

        def snap(start: int, end: int) -> Optional[Tuple[int, int]]:
            span = doc.char_span(start, end, alignment_mode=mode)
            return None if span is None or len(span) == 0 else (span.start_char, span.end_char)

        fmt = get_format(self._output_format)
        spans, stats = fmt.parse(doc.text, self.cut_answer(response), self.parser_labels(),
                                 snap=snap, fuzzy_threshold=self._fuzzy_threshold)
        ents = [doc.char_span(s, e, label=label, alignment_mode=mode) for s, e, label in spans]
        doc.set_ents([ent for ent in ents if ent is not None])
        return stats

    def parse_responses(
        self, shards: Iterable[Iterable[Doc]], responses: Iterable[Iterable[Any]]
    ) -> Iterable[Doc]:
        for shards_for_doc, responses_for_doc in zip(shards, responses):
            shards_for_doc = list(shards_for_doc)
            stats = empty_stats()
            usage = _empty_usage()
            for shard, response in zip(shards_for_doc, responses_for_doc):
                add_stats(stats, self.parse_doc(shard, response))
                usage["requests"] += 1
                given = getattr(response, "usage", None)
                if isinstance(given, Mapping):
                    for key in ("prompt_tokens", "completion_tokens"):
                        usage[key] += int(given.get(key) or 0)
                if getattr(response, "cached", False):
                    usage["cache_hits"] += 1
            if len(shards_for_doc) == 1:
                doc = shards_for_doc[0]
            else:
                doc = self._shard_reducer(self, shards_for_doc)  # type: ignore[arg-type]
            doc.user_data[schema.PARSE_STATS] = stats
            doc.user_data[schema.LLM_USAGE] = usage
            yield doc

    def scorer(self, examples: Iterable[Example]) -> Dict[str, Any]:
        return self._scorer(examples)

    # -------------------------------------------------------------------- initialization
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        nlp: Language,
        labels: List[str] = [],
        examples: Optional[Callable[[Language], Iterable[Any]]] = None,
        knowledge_base: Optional[Callable[[Language], Iterable[Any]]] = None,
    ) -> None:
        """Build the few-shot pool (from ``examples`` or ``get_examples``) and the
        knowledge base (from ``knowledge_base``: training *documents*)."""
        if labels:
            self._labels = split_labels(labels)
        if self._examples is not None:
            start = time.time()
            source = examples(nlp) if examples is not None else get_examples()
            docs = _reference_docs(source)
            self._examples.initialize(docs)
            logger.info("raredis.NER.v1: %s example pool of %d (from %d docs) in %.1fs",
                        self._examples.kind, len(self._examples.pool or []), len(docs),
                        time.time() - start)
        if self._retriever is not None:
            if knowledge_base is None and getattr(self._retriever, "needs_documents", True):
                raise ValueError(
                    "raredis.NER.v1 has a retriever but no knowledge base: add "
                    "[initialize.components.llm.knowledge_base] with @readers = "
                    "\"spacy.Corpus.v1\" and path = ${paths.train_docs} (training documents)"
                )
            start = time.time()
            self._retriever.initialize(_reference_docs(knowledge_base(nlp)) if knowledge_base else [])
            logger.info("raredis.NER.v1: knowledge base of %d chunks in %.1fs",
                        len(self._retriever.chunks or []), time.time() - start)

    # --------------------------------------------------------------------- serialization
    _CFG_KEYS = ("_labels", "_definitions", "_template", "_context_template", "_output_format",
                 "_label_map", "_alignment_mode", "_fuzzy_threshold", "_answer_stop")

    def get_cfg(self) -> Dict[str, Any]:
        return {key: getattr(self, key) for key in self._CFG_KEYS}

    def set_cfg(self, cfg: Mapping[str, Any]) -> None:
        for key, value in cfg.items():
            if key in self._CFG_KEYS:
                setattr(self, key, value)

    def to_disk(self, path: Path, *, exclude: Tuple[str] = cast(Tuple[str], tuple())) -> None:
        serialize: Dict[str, Callable[[Path], None]] = {
            "cfg": lambda p: srsly.write_json(p, self.get_cfg())}
        if self._examples is not None:
            serialize["examples"] = lambda p: self._examples.to_disk(p)  # type: ignore[union-attr]
        if self._retriever is not None:
            serialize["retriever"] = lambda p: self._retriever.to_disk(p)  # type: ignore[union-attr]
        util.to_disk(path, serialize, exclude)

    def from_disk(self, path: Path, *, exclude: Tuple[str] = cast(Tuple[str], tuple())) -> "RareDisNERTask":
        path = util.ensure_path(path)
        deserialize: Dict[str, Callable[[Path], Any]] = {
            "cfg": lambda p: self.set_cfg(srsly.read_json(p))}
        if self._examples is not None and (path / "examples").exists():
            deserialize["examples"] = lambda p: self._examples.from_disk(p)  # type: ignore[union-attr]
        if self._retriever is not None and (path / "retriever").exists():
            deserialize["retriever"] = lambda p: self._retriever.from_disk(p)  # type: ignore[union-attr]
        util.from_disk(path, deserialize, exclude)
        return self

    def to_bytes(self, *, exclude: Tuple[str] = cast(Tuple[str], tuple())) -> bytes:
        serialize: Dict[str, Callable[[], bytes]] = {"cfg": lambda: srsly.json_dumps(self.get_cfg())}
        if self._examples is not None:
            serialize["examples"] = lambda: self._examples.to_bytes()  # type: ignore[union-attr]
        if self._retriever is not None:
            serialize["retriever"] = lambda: self._retriever.to_bytes()  # type: ignore[union-attr]
        return util.to_bytes(serialize, exclude)

    def from_bytes(self, bytes_data: bytes, *,
                   exclude: Tuple[str] = cast(Tuple[str], tuple())) -> "RareDisNERTask":
        msg = srsly.msgpack_loads(bytes_data)
        if "cfg" in msg and "cfg" not in exclude:
            self.set_cfg(srsly.json_loads(msg["cfg"]))
        if self._examples is not None and msg.get("examples") is not None and "examples" not in exclude:
            self._examples.from_bytes(msg["examples"])
        if self._retriever is not None and msg.get("retriever") is not None and "retriever" not in exclude:
            self._retriever.from_bytes(msg["retriever"])
        return self


@llm_registry.llm_tasks("raredis.NER.v1")
def make_raredis_ner_task(
    labels: Union[str, List[str]] = list(LABELS),
    definitions: Optional[str] = None,
    template: Optional[str] = None,
    context_template: Optional[str] = None,
    output_format: str = "inline",
    examples: Optional[ExampleSelector] = None,
    retriever: Optional[Retriever] = None,
    label_map: Optional[Dict[str, str]] = None,
    alignment_mode: str = "expand",
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
    answer_stop: List[str] = list(DEFAULT_ANSWER_STOP),
    shard_mapper: Optional[ShardMapper] = None,
    shard_reducer: Optional[ShardReducer] = None,
    scorer: Optional[Scorer] = None,
) -> RareDisNERTask:
    """RareDis NER task.

    labels: labels to extract, list or comma-separated (default: the 5 RareDis types; the
        4-type view is ``["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]``).
    definitions: YAML file with description, label definitions and rules (default: the
        bundled file for the label set).
    template / context_template: Jinja2 files for the prompt and for retrieved passages
        (default: ``templates/ner.jinja``, ``templates/rag_context.jinja``).
    output_format: ``"inline"``, ``"json"`` or ``"bio"``.
    examples: a few-shot selector (``raredis.RandomExamples.v1``, ``raredis.KNNExamples.v1``,
        ``raredis.ClusterExamples.v1``); None for zero-shot.
    retriever: ``raredis.Retriever.v1`` (training-document chunks) or
        ``raredis.KBRetriever.v1`` (knowledge-base entries) for retrieval-augmented prompts.
    label_map: gold/answer label -> task label (default: SKINRAREDISEASE -> RAREDISEASE
        when only RAREDISEASE is a task label); labels mapped to nothing are dropped from
        examples and count as ``bad_label`` in answers.
    alignment_mode: how character matches snap to tokens (``"expand"``, ``"contract"``,
        ``"strict"``).
    fuzzy_threshold: difflib ratio a fuzzy match needs (> 1 turns fuzzy matching off).
    answer_stop: a response is cut at the first of these markers (base models go on
        writing the next ``Text:`` block).
    """
    labels_list = split_labels(labels)
    if not labels_list:
        raise ValueError("raredis.NER.v1: no labels given")
    if label_map is None:
        label_map = {alias: target for alias, target in MERGE_MAP.items()
                     if alias not in labels_list and target in labels_list}
    return RareDisNERTask(
        labels=labels_list,
        definitions=load_definitions(definitions, labels_list),
        template=read_template(template, DEFAULT_TEMPLATE),
        context_template=read_template(context_template, getattr(retriever, "default_context_template", DEFAULT_CONTEXT_TEMPLATE)),
        output_format=output_format,
        examples=examples,
        retriever=retriever,
        label_map=label_map,
        alignment_mode=alignment_mode,
        fuzzy_threshold=fuzzy_threshold,
        answer_stop=answer_stop,
        shard_mapper=shard_mapper or make_shard_mapper(),
        shard_reducer=shard_reducer or reduce_shards_to_doc,
        scorer=scorer or get_ner_prf,
    )
