"""``raredis.Tokenizer.v1``: spaCy's tokenizer for the language, with markup tags and HTML
character references as tokens of their own (``disease</p><br/><b>muscle`` ->
``disease``, ``</p>``, ``<br/>``, ``<b>``, ``muscle``).

Used in the training configs so that training sees markup tokenized as
``raredis_boundaries`` tokenizes it at prediction time.
"""

from typing import Callable

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

from .markup import CHAR_REF, MARKUP_TAG

MARKUP_PATTERNS = (MARKUP_TAG, CHAR_REF)


def markup_tokenizer(nlp: Language) -> Tokenizer:
    """The language's default tokenizer with the markup rules first."""
    defaults = nlp.Defaults
    prefixes = [*MARKUP_PATTERNS, *(defaults.prefixes or [])]
    suffixes = [*MARKUP_PATTERNS, *(defaults.suffixes or [])]
    infixes = [*MARKUP_PATTERNS, *(defaults.infixes or [])]
    return Tokenizer(
        nlp.vocab,
        rules=defaults.tokenizer_exceptions,
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(suffixes).search,
        infix_finditer=compile_infix_regex(infixes).finditer,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


@registry.tokenizers("raredis.Tokenizer.v1")
def create_markup_tokenizer() -> Callable[[Language], Tokenizer]:
    """spaCy's tokenizer with markup tags and character references as separate tokens."""
    return markup_tokenizer
