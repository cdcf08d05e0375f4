"""A real (tiny) spaCy component for tests: writes the entities it was configured
with for each known text, and optional LLM usage / parse statistics.

Used in-process (imported by conftest) and by ``scripts/evaluate.py --code``.
"""

from typing import Dict, List, Optional

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from raredis_llm.corpus import schema

FACTORY = "raredis_test_gold_copier"


class GoldCopier:
    def __init__(self, ents_by_text: Dict[str, List[list]], usage: Optional[dict], parse: Optional[dict]):
        self.ents_by_text = ents_by_text
        self.usage = usage
        self.parse = parse

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for start, end, label in self.ents_by_text.get(doc.text, []):
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.set_ents(filter_spans(spans), default="outside")
        if self.usage:
            doc.user_data[schema.LLM_USAGE] = dict(self.usage)
        if self.parse:
            doc.user_data[schema.PARSE_STATS] = dict(self.parse)
        return doc


if not Language.has_factory(FACTORY):
    # the table travels as [[text, ents], ...]: texts as config keys would not survive
    @Language.factory(FACTORY, default_config={"table": [], "usage": None, "parse": None})
    def make_gold_copier(nlp: Language, name: str, table: List[list],
                         usage: Optional[dict], parse: Optional[dict]) -> GoldCopier:
        return GoldCopier({text: ents for text, ents in table}, usage, parse)


def copier_pipeline(ents_by_text: Dict[str, List[list]], usage: Optional[dict] = None,
                    parse: Optional[dict] = None) -> Language:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe(FACTORY, config={"table": [[t, e] for t, e in ents_by_text.items()], "usage": usage, "parse": parse})
    return nlp


def gold_table(docs) -> Dict[str, List[list]]:
    """``{text: [[start, end, label], ...]}`` of the gold entities."""
    return {d.text: [[e.start_char, e.end_char, e.label_] for e in d.ents] for d in docs}
