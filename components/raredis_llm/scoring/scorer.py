"""``raredis.ner_scorer.v1``: the harness's metrics as a spaCy scorer.

Use it for the ``ner`` (or any ``doc.ents``-writing) component so that ``spacy train``
and ``spacy evaluate`` report the numbers the harness reports::

    [components.ner.scorer]
    @scorers = "raredis.ner_scorer.v1"

It returns spaCy's usual ``ents_p/r/f`` and ``ents_per_type`` (5-type view, so
``score_weights`` keep working) plus, for each view ``V`` in ``5type``/``4type``:
``ents_f_V`` (spaCy's scorer in that view), ``seqeval_micro_p_V``, ``seqeval_micro_r_V``,
``seqeval_micro_f_V`` and ``seqeval_macro_f_V`` (seqeval strict IOB2).
"""

from functools import partial
from typing import Any, Dict, Iterable, Sequence

from spacy.scorer import get_ner_prf
from spacy.training import Example
from spacy.util import registry

from ..extras import require
from ..labels import VIEWS

#: both views; the harness (``evaluate``, seqeval) is imported only when a scorer runs, so a
#: pipeline that names this scorer loads without it
DEFAULT_VIEWS = tuple(VIEWS)


def score_examples(examples: Iterable[Example], views: Sequence[str] = DEFAULT_VIEWS, **kwargs: Any) -> Dict[str, Any]:
    require("seqeval", "eval", "raredis.ner_scorer.v1 (the harness's metrics)")
    from .evaluate import score_docs

    examples = list(examples)
    out: Dict[str, Any] = dict(get_ner_prf(examples))
    scores, _ = score_docs([eg.predicted for eg in examples], [eg.reference for eg in examples],
                           views=views, errors=False)
    for view, result in scores["views"].items():
        out[f"ents_f_{view}"] = result["spacy"]["ents_f"]
        micro, macro = result["seqeval"]["micro"], result["seqeval"]["macro"]
        out[f"seqeval_micro_p_{view}"] = micro["p"]
        out[f"seqeval_micro_r_{view}"] = micro["r"]
        out[f"seqeval_micro_f_{view}"] = micro["f"]
        out[f"seqeval_macro_f_{view}"] = macro["f"]
    return out


@registry.scorers("raredis.ner_scorer.v1")
def make_ner_scorer(views: Sequence[str] = DEFAULT_VIEWS):
    return partial(score_examples, views=tuple(views))
