"""Score any spaCy pipeline on gold Docs: one scorer for every system.

``evaluate(nlp, gold_docs, system=...)`` runs the pipeline on the *texts* of the gold
Docs (``nlp.pipe``, order kept), then ``score_docs`` compares ``doc.ents``:

* spaCy's own NER scorer (``spacy.scorer.get_ner_prf`` on ``Example(pred, gold)``):
  ``ents_p/r/f`` and ``ents_per_type``;
* three metric views (``units.METRICS``): seqeval strict IOB2 on the gold tokens
  (predictions projected with ``spans.project``; the headline), seqeval default mode, and
  document-level mention sets; per type, micro and macro;
* the error breakdown of ``errors.py``;

each in both label views of ``labels.VIEWS`` ("5type"; "4type" = SKINRAREDISEASE merged
into RAREDISEASE on gold and predictions alike). Scores are fractions in [0, 1]. The
per-sentence record (``units.py``) goes into the metrics too, for intervals and pairing.

The gold ``doc.ents`` are those of the converted corpus, or another projection of the
stored annotation (``gold_projections``, see ``corpus/project.py``): the first one is
the main score, the others are added under ``"gold_projections"``.
"""

import datetime as _dt
import json
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import spacy
from spacy.language import Language
from spacy.scorer import get_ner_prf
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from .. import __version__
from ..corpus import schema
from ..corpus.docs import reproject
from ..labels import LABELS, VIEWS, labels_for, map_label
from ..util import seeded_sample, write_text
from . import speed
from .counts import summary
from .doc_level import doc_counts, doc_ents_mentions, mention_types
from .errors import CLASSES, ERROR_CLASSES, ErrorTally, classify
from .seqeval_metrics import sentence_counts, tag_types
from .spans import (
    check_pairs, check_view, count_words, doc_ents, doc_label, iob2_tags, project, relabel,
    spans_to_ents, view_doc,
)
from .scorer import DEFAULT_VIEWS
from .units import SCORE_KEYS, build_units, sentence_key
#: Doc metadata handed to the pipeline with ``input_mode="tokens"`` or ``"text_meta"``.
PASS_THROUGH_KEYS = (schema.DOC_ID, schema.SENT_INDEX, schema.CHAR_OFFSET, schema.CONTEXT)
INPUT_MODES = ("text", "tokens", "text_meta")
SAMPLER = "raredis_llm.util.seeded_sample"


def load_gold_docs(path: Union[str, Path], nlp: Optional[Language] = None) -> List[Doc]:
    """The Docs of a ``.spacy`` DocBin, with a clear error when the file is wrong."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Gold DocBin not found: {path}")
    vocab = nlp.vocab if nlp is not None else spacy.blank("en").vocab
    try:
        docs = list(DocBin().from_disk(path).get_docs(vocab))
    except Exception as err:  # msgpack / zlib errors say nothing about the file
        raise ValueError(f"Cannot read {path} as a spaCy DocBin: {err}") from err
    if not docs:
        raise ValueError(f"{path} holds no Docs")
    return docs


def sample_docs(docs: Sequence[Doc], n_docs: Optional[int], seed: int = 0) -> Tuple[List[int], List[Doc]]:
    """``(corpus indices, Docs)`` of all Docs, or of ``n_docs`` drawn with ``seed`` (corpus
    order kept; nested: the sample of 24 is part of the sample of 200)."""
    indices = seeded_sample(len(docs), n_docs, seed)
    return indices, [docs[i] for i in indices]


def pipeline_inputs(nlp: Language, gold_docs: Sequence[Doc], input_mode: str = "text") -> list:
    """What ``nlp.pipe`` gets: the texts; (``"tokens"``) unannotated Docs with the gold
    tokens and the gold Doc's id, sentence index, offset and context in ``user_data``; or
    (``"text_meta"``) the pipeline's own tokens with that ``user_data``."""
    if input_mode == "text":
        return [d.text for d in gold_docs]
    if input_mode in ("tokens", "text_meta"):
        out = []
        for d in gold_docs:
            if input_mode == "tokens":
                doc = Doc(nlp.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d])
            else:
                doc = nlp.make_doc(d.text)
            for key in PASS_THROUGH_KEYS:
                if key in d.user_data:
                    doc.user_data[key] = d.user_data[key]
            out.append(doc)
        return out
    raise ValueError(f"input_mode must be one of {INPUT_MODES}, not {input_mode!r}")


def _spacy_scores(pred_docs: Sequence[Doc], gold_docs: Sequence[Doc], view: str) -> dict:
    examples = [Example(view_doc(p, view), view_doc(g, view)) for p, g in zip(pred_docs, gold_docs)]
    out = get_ner_prf(examples)
    return {
        "ents_p": out["ents_p"], "ents_r": out["ents_r"], "ents_f": out["ents_f"],
        "ents_per_type": dict(sorted((out["ents_per_type"] or {}).items())),
    }


def default_mode_tags(pred: Doc, gold: Doc, projected: List[str], view: str, index: int = 0) -> List[str]:
    """The tags seqeval's default mode scores: the predicted tags as given
    (``schema.PRED_TAGS``, on the gold tokens) when a system gave tags, else ``projected``."""
    given = pred.user_data.get(schema.PRED_TAGS)
    if given is None:
        return projected
    if len(given) != len(gold):
        raise ValueError(f"{len(given)} predicted tags for {len(gold)} gold tokens in {doc_label(gold, index)}")
    return [t if "-" not in t else f"{t.split('-', 1)[0]}-{map_label(t.split('-', 1)[1], view)}" for t in given]


def counted_types(view: str, *extra: Iterable[str]) -> List[str]:
    """The view's target labels, then any other label seen, sorted."""
    types = list(labels_for(view))
    return types + sorted(set().union(*extra) - set(types))


def score_docs(
    pred_docs: Sequence[Doc],
    gold_docs: Sequence[Doc],
    views: Iterable[str] = DEFAULT_VIEWS,
    max_samples: int = 20,
    seed: int = 0,
    errors: bool = True,
    keys: Optional[Sequence[str]] = None,
) -> Tuple[dict, List[dict]]:
    """Compare predicted with gold ``doc.ents``; Docs are paired by position.

    Returns ``(scores, error_docs)``: ``scores`` has ``views`` (per view: ``spacy``,
    ``seqeval`` (strict), ``seqeval_default``, ``doc_level``, ``errors``), ``alignment`` and
    ``units`` (the per-sentence record; ``keys`` name the sentences, by default from
    their document id and sentence index); ``error_docs`` lists, for every Doc with an
    error in the first view, its text and gold and predicted spans (predicted as projected
    onto the gold tokens, 5-type labels).
    """
    views = [check_view(v) for v in views]
    check_pairs(pred_docs, gold_docs)
    keys = list(keys) if keys is not None else [sentence_key(g, i) for i, g in enumerate(gold_docs)]
    if len(keys) != len(gold_docs):
        raise ValueError(f"{len(keys)} sentence ids for {len(gold_docs)} gold Docs")
    projections = [project(doc_ents(p, "5type"), g) for p, g in zip(pred_docs, gold_docs)]
    alignment = {
        "n_gold": sum(len(g.ents) for g in gold_docs),
        "n_pred": sum(pr.n_pred for pr in projections),
        "misaligned": sum(pr.misaligned for pr in projections),
        "dropped_overlap": sum(pr.dropped_overlap for pr in projections),
        "dropped_empty": sum(pr.dropped_empty for pr in projections),
        "non_target_labels": dict(sorted(Counter(
            e.label_ for p in pred_docs for e in p.ents if e.label_ not in LABELS).items())),
    }
    doc_ids = [g.user_data.get(schema.DOC_ID) for g in gold_docs]
    gold_mentions = [doc_ents_mentions(g) for g in gold_docs]
    pred_mentions = [doc_ents_mentions(p) for p in pred_docs]
    scores: dict = {"views": {}, "alignment": alignment}
    unit_counts: dict = {"strict": {}, "default": {}}
    error_docs: List[dict] = []
    for n_view, view in enumerate(views):
        y_true = [iob2_tags(g, g.ents, view) for g in gold_docs]
        y_pred = [iob2_tags(g, pr.spans, view) for g, pr in zip(gold_docs, projections)]
        y_default = [default_mode_tags(p, g, tags, view, i)
                     for i, (p, g, tags) in enumerate(zip(pred_docs, gold_docs, y_pred))]
        types = counted_types(view, tag_types(y_true), tag_types(y_pred), tag_types(y_default),
                              mention_types(gold_mentions, view), mention_types(pred_mentions, view))
        strict = sentence_counts(y_true, y_pred, types, "strict")
        default = sentence_counts(y_true, y_default, types, "default")
        _, per_doc = doc_counts(doc_ids, gold_mentions, pred_mentions, types, view)
        unit_counts["strict"][view] = (types, strict)
        unit_counts["default"][view] = (types, default)
        result = {
            "spacy": _spacy_scores(pred_docs, gold_docs, view),
            SCORE_KEYS["strict"]: summary(strict.sum(axis=0), types),
            SCORE_KEYS["default"]: summary(default.sum(axis=0), types),
            SCORE_KEYS["doc"]: {**summary(per_doc.sum(axis=0), types), "documents": int(per_doc.shape[0])},
        }
        if errors:
            tally = ErrorTally(max_samples=max_samples, seed=seed)
            for i, (g, pr) in enumerate(zip(gold_docs, projections)):
                golds = doc_ents(g, view)
                preds = relabel(spans_to_ents(pr.spans), view)
                records = classify(preds, golds)
                tally.add(records, g.text, i, doc_label(g, i))
                wrong = Counter(r["class"] for r in records if r["class"] != "exact")
                if n_view == 0 and wrong:
                    error_docs.append({
                        "doc_index": i,
                        "doc": doc_label(g, i),
                        "doc_id": g.user_data.get(schema.DOC_ID),
                        "sent_index": g.user_data.get(schema.SENT_INDEX),
                        "view": view,
                        "text": g.text,
                        "gold": [e.to_list() for e in doc_ents(g, "5type")],
                        "pred": [e.to_list() for e in spans_to_ents(pr.spans)],
                        "errors": {c: wrong[c] for c in ERROR_CLASSES if wrong[c]},
                    })
            result["errors"] = tally.to_dict()
        scores["views"][view] = result
    scores["units"] = build_units(keys, doc_ids, unit_counts, gold_mentions, pred_mentions)
    return scores, error_docs


def git_commit(cwd: Optional[Path] = None) -> Optional[str]:
    cwd = cwd or Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def metrics_record(
    pred_docs: Sequence[Doc],
    gold_docs: Sequence[Doc],
    system: str,
    model: Optional[str] = None,
    corpus: Optional[str] = None,
    pipeline: Sequence[str] = (),
    input_mode: Optional[str] = None,
    views: Iterable[str] = DEFAULT_VIEWS,
    max_samples: int = 20,
    seed: int = 0,
    indices: Optional[Sequence[int]] = None,
    n_docs_total: Optional[int] = None,
    speed_stats: Optional[dict] = None,
    price_prompt_1k: float = 0.0,
    price_completion_1k: float = 0.0,
    gold_projections: Sequence[str] = (),
) -> Tuple[dict, List[dict]]:
    """Score predictions and gather everything a metrics file holds: ``(metrics, error_docs)``.

    ``indices`` are the corpus positions of ``gold_docs`` (the sample); they name Docs
    that have no document id and are recorded with the seed. ``gold_projections`` name
    the gold ``doc.ents`` (``corpus/project.py``): the first is scored as the main gold,
    the others go under ``"gold_projections"`` (empty: ``doc.ents`` as converted).
    """
    gold_docs = list(gold_docs)
    converted = gold_projection_of(gold_docs)
    if gold_projections and gold_projections[0] != converted:
        gold_docs = [reproject(d, gold_projections[0]) for d in gold_docs]
    keys = [sentence_key(g, i if indices is None else indices[i]) for i, g in enumerate(gold_docs)]
    scores, error_docs = score_docs(pred_docs, gold_docs, views=views, max_samples=max_samples, seed=seed, keys=keys)
    extra = {}
    for name in gold_projections[1:]:
        other = [reproject(d, name) for d in gold_docs]
        other_scores = score_docs(pred_docs, other, views=views, errors=False, keys=keys)[0]
        extra[name] = {k: v for k, v in other_scores.items() if k != "units"}
    first = next(iter(scores["views"].values()))["spacy"]
    n_total = n_docs_total if n_docs_total is not None else len(gold_docs)
    metrics = {
        "system": system,
        "model": model,
        "corpus": corpus,
        "pipeline": list(pipeline),
        "input_mode": input_mode,
        "gold_projection": gold_projections[0] if gold_projections else converted,
        "n_docs": len(gold_docs),
        "n_docs_total": n_total,
        "seed": seed,
        "sample": {"sampler": SAMPLER, "seed": seed, "n": len(gold_docs), "n_total": n_total,
                   "indices": list(indices) if indices is not None else None},
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "versions": {"raredis_llm": __version__, "spacy": spacy.__version__},
        "ents_p": first["ents_p"], "ents_r": first["ents_r"], "ents_f": first["ents_f"],
        **scores,
        "gold_projections": extra,
        "speed": speed_stats or {},
        "llm_usage": speed.sum_usage(pred_docs, price_prompt_1k, price_completion_1k),
        "parse": speed.sum_parse_stats(pred_docs),
        "error_classes": list(CLASSES),
        "errors_file": None,
    }
    return metrics, error_docs


def evaluate(
    nlp: Language,
    gold_docs: Sequence[Doc],
    system: str,
    model: Optional[str] = None,
    corpus: Optional[str] = None,
    batch_size: Optional[int] = None,
    input_mode: str = "text",
    views: Iterable[str] = DEFAULT_VIEWS,
    max_samples: int = 20,
    seed: int = 0,
    price_prompt_1k: float = 0.0,
    price_completion_1k: float = 0.0,
    indices: Optional[Sequence[int]] = None,
    n_docs_total: Optional[int] = None,
    load_s: Optional[float] = None,
    output: Optional[Union[str, Path]] = None,
    errors_output: Optional[Union[str, Path]] = None,
    progress: bool = False,
    gold_projections: Sequence[str] = (),
) -> dict:
    """Run ``nlp`` on the gold Docs' texts and score it (see the module docstring).

    With ``output`` the metrics JSON is written there and the Docs with errors to
    ``errors_output`` (default: ``<output stem>.errors.jsonl`` beside it).
    """
    gold_docs = list(gold_docs)
    inputs = pipeline_inputs(nlp, gold_docs, input_mode)
    kwargs = {} if batch_size is None else {"batch_size": batch_size}
    speed.reset_cuda_peak()
    stream = nlp.pipe(inputs, **kwargs)
    if progress:
        from tqdm import tqdm

        stream = tqdm(stream, total=len(inputs), desc=f"evaluate {system}", unit="doc")
    with speed.Stopwatch() as watch:
        pred_docs = list(stream)
    speed_stats = {**speed.throughput(sum(count_words(d) for d in gold_docs), len(gold_docs), watch.seconds),
                   "load_s": None if load_s is None else round(load_s, 3),
                   "batch_size": batch_size, **speed.memory_stats()}
    metrics, error_docs = metrics_record(
        pred_docs, gold_docs, system, model=model, corpus=corpus, pipeline=nlp.pipe_names, input_mode=input_mode,
        views=views, max_samples=max_samples, seed=seed, indices=indices, n_docs_total=n_docs_total,
        speed_stats=speed_stats, price_prompt_1k=price_prompt_1k, price_completion_1k=price_completion_1k,
        gold_projections=gold_projections)
    metrics["warnings"] = pipeline_warnings(nlp)
    if output is not None:
        write_metrics(metrics, output, error_docs, errors_output)
    return metrics


def gold_projection_of(docs: Sequence[Doc]) -> Optional[str]:
    """The projection the converter used for these Docs' ``doc.ents`` (None if unknown)."""
    names = {d.user_data.get(schema.ANNOTATION, {}).get("projection_name") for d in docs}
    return names.pop() if len(names) == 1 else None


def pipeline_warnings(nlp: Language) -> List[str]:
    """What a reader must know about how the pipeline was made (from its meta): a model
    whose training was cut by the wall-clock safety stop, or an untrained adapter."""
    info = nlp.meta.get("raredis_finetune") or {}
    training = info.get("training") or {}
    out = []
    if info and not info.get("trained", True):
        out.append("untrained adapter (wiring tests only)")
    if training.get("stopped_by_time"):
        out.append(f"training stopped by the wall-clock safety cap after {training.get('steps')} of "
                   f"{training.get('planned_steps')} steps")
    return out


def errors_path_for(output: Union[str, Path]) -> Path:
    output = Path(output)
    return output.with_name(output.stem + ".errors.jsonl")


def write_metrics(
    metrics: dict,
    output: Union[str, Path],
    error_docs: Sequence[dict] = (),
    errors_output: Optional[Union[str, Path]] = None,
) -> Tuple[Path, Path]:
    """Write ``metrics`` as JSON and ``error_docs`` as JSON lines; returns both paths."""
    output = Path(output)
    errors_output = Path(errors_output) if errors_output is not None else errors_path_for(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    errors_output.parent.mkdir(parents=True, exist_ok=True)
    with errors_output.open("w", encoding="utf8") as f:
        for row in error_docs:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    metrics["errors_file"] = errors_output.name if errors_output.parent == output.parent else str(errors_output)
    write_text(dumps_metrics(metrics), output)
    return output, errors_output


_FLAT_LIST = re.compile(r"\[(\s*\n[^\[\]{}]*?)\]")


def dumps_metrics(metrics: dict) -> str:
    """JSON with two-space indents, lists of plain values on one line (the per-sentence
    record stays a line per sentence)."""
    text = json.dumps(metrics, indent=2, ensure_ascii=False)
    return _FLAT_LIST.sub(lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(1)).strip() + "]", text) + "\n"
