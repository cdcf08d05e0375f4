"""``raredis.ProjectedCorpus.v1``: spaCy's corpus reader with a chosen gold projection.

It reads a converted DocBin like ``spacy.Corpus.v1`` and, when ``projection`` is set,
re-projects each reference Doc's entities from the annotation it stores
(``corpus.docs.reproject``), so one converted corpus trains every variant of
``corpus/project.py`` (``missing_fragments`` included: those tokens are missing values).
"""

from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from spacy.language import Language
from spacy.training import Corpus, Example
from spacy.util import registry

from .docs import reproject
from .project import get_policy


@registry.readers("raredis.ProjectedCorpus.v1")
def make_projected_corpus(
    path: Optional[Union[str, Path]],
    projection: Optional[str] = None,
    same_span: Optional[str] = None,
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Callable] = None,
) -> Callable[[Language], Iterable[Example]]:
    """Examples of the DocBin at ``path``; ``projection = null`` keeps ``doc.ents`` as converted."""
    if projection is not None:
        get_policy(projection, same_span)  # fail on a bad name when the config loads
    corpus = Corpus(path, gold_preproc=gold_preproc, max_length=max_length, limit=limit, augmenter=augmenter)

    def read(nlp: Language) -> Iterator[Example]:
        for eg in corpus(nlp):
            if projection is None:
                yield eg
            else:
                yield Example(eg.predicted, reproject(eg.reference, projection, same_span))

    return read
