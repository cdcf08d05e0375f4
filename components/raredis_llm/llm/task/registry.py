"""The registered functions of the RareDis prompting task: ``raredis.NER.v1`` and the
label definitions / task description for spacy-llm's built-in tasks."""

from typing import Dict, List, Optional, Union

from spacy.scorer import get_ner_prf
from spacy.util import registry
from spacy_llm.registry import registry as llm_registry
from spacy_llm.tasks.ner.util import reduce_shards_to_doc
from spacy_llm.tasks.util.sharding import make_shard_mapper
from spacy_llm.ty import Scorer, ShardMapper, ShardReducer

from ...labels import LABELS, MERGE_MAP
from ...ner.align import DEFAULT_FUZZY_THRESHOLD
from ...util import read_template
from ..examples import ExampleSelector
from ..retrieval import Retriever
from .definitions import load_definitions, split_labels
from .task import DEFAULT_ANSWER_STOP, DEFAULT_CONTEXT_TEMPLATE, DEFAULT_TEMPLATE, RareDisNERTask


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
        context_template=read_template(context_template, getattr(retriever, "default_context_template",
                                                                 DEFAULT_CONTEXT_TEMPLATE)),
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
