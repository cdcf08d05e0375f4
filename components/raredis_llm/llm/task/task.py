"""``raredis.NER.v1``: the spacy-llm task for RareDis NER (registered in :mod:`.registry`).

A sharding spacy-llm task that renders a Jinja2 prompt (``templates/ner.jinja``) with
label definitions and rules (:mod:`.definitions`), the output format's instructions
(:mod:`raredis_llm.ner.formats`), optional few-shot examples (:mod:`..examples`) and
retrieved passages (:mod:`..retrieval`); parses answers into ``doc.ents`` through
:mod:`raredis_llm.ner.ents` (never raising on bad output); and builds the example pool
and the knowledge base at ``initialize``, saved with the pipeline so ``spacy.load``
recomputes nothing.
"""

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, cast

import jinja2
import jinja2.sandbox
import srsly
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy_llm.ty import Scorer, ShardMapper, ShardReducer

from ...models.engine import Constraint
from ...ner.budget import Prompt
from ...ner.ents import annotate, check_alignment_mode, record
from ...ner.formats import get_format
from ...ner.stats import add_stats, empty_stats, empty_usage
from ..examples import ExampleSelector
from ..retrieval import Retriever
from .definitions import split_labels

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "ner.jinja"
DEFAULT_CONTEXT_TEMPLATE = "rag_context.jinja"
DEFAULT_ANSWER_STOP = ["\nText:", "\nNow annotate"]


def _reference_docs(items: Iterable[Any]) -> List[Doc]:
    docs = []
    for item in items:
        doc = item.reference if isinstance(item, Example) else item
        if not isinstance(doc, Doc):
            raise TypeError(f"Expected spaCy Examples or Docs, got {type(item).__name__}")
        docs.append(doc)
    return docs


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
        check_alignment_mode(alignment_mode)
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
            "answer_sep": fmt.answer_sep,
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
        glue = tuple(fmt.constraint_strings(self._labels))
        for i_doc, doc in enumerate(docs):
            data = {**static, "examples": self.render_examples(selected[i_doc]),
                    "context": self.render_context(passages[i_doc])}

            def render(shard: Doc, i_shard: int, i_doc: int, n_shards: int, data=data) -> Prompt:
                return Prompt(template.render(text=shard.text, **data), answer_reference=fmt.answer_reference(shard.text),
                              constraint=Constraint((shard.text,), glue), stop=fmt.answer_stop(shard.text))

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

    def parse_doc(self, doc: Doc, response: Any) -> Tuple[Dict[str, Any], Dict[str, int]]:
        """Set ``doc.ents`` from one response; return the parse stats and usage."""
        answer = response if response is not None else ""
        cut = self.cut_answer(answer)
        if hasattr(answer, "usage"):  # keep usage/cached of a Completion through the cut
            answer = type(answer)(cut, usage=answer.usage, cached=answer.cached, meta=answer.meta)
        else:
            answer = cut
        return annotate(doc, [(0, len(doc.text), answer)], get_format(self._output_format), self.parser_labels(),
                        alignment_mode=self._alignment_mode, fuzzy_threshold=self._fuzzy_threshold)

    def parse_responses(
        self, shards: Iterable[Iterable[Doc]], responses: Iterable[Iterable[Any]]
    ) -> Iterable[Doc]:
        for shards_for_doc, responses_for_doc in zip(shards, responses):
            shards_for_doc = list(shards_for_doc)
            stats, usage = empty_stats(), empty_usage()
            for shard, response in zip(shards_for_doc, responses_for_doc):
                shard_stats, shard_usage = self.parse_doc(shard, response)
                add_stats(stats, shard_stats)
                add_stats(usage, shard_usage)
            if len(shards_for_doc) == 1:
                doc = shards_for_doc[0]
            else:
                doc = self._shard_reducer(self, shards_for_doc)  # type: ignore[arg-type]
            record(doc, stats, usage)
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
