"""Name normalisation shared by every knowledge-base matcher, and name variants.

Texts and knowledge-base names are compared as sequences of *keys*, one or more per spaCy
token: accents removed, hyphens and slashes split off (``Ehlers-Danlos`` = ``Ehlers
Danlos``), whitespace and possessive ``'s`` tokens dropped (``Parkinson's disease`` =
``Parkinson disease``), lower case except short all-capital acronyms (``ALS`` is not
``als``; a name in capitals matches too, see :func:`capitalised_keys`), and common English plurals reduced to the singular (``seizures`` = ``seizure``,
``abnormalities`` = ``abnormality``). :func:`name_variants` adds the forms a name is often
written in: ``syndrome`` <-> ``disease``, without a trailing number or type
(``Retinitis pigmentosa 68``), without OMIM's comma qualifiers
(``Ehlers-Danlos syndrome, classic type``).
"""

import re
import unicodedata
from typing import Iterable, List, Sequence, Tuple

_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2212]")
_SPLIT = re.compile(r"[-/]+")
_POSSESSIVE = {"'s", "\u2019s", "'", "\u2019", "s'"}
_IRREGULAR = {"feet": "foot", "teeth": "tooth", "children": "child", "women": "woman",
              "men": "man", "nevi": "nevus", "naevi": "naevus", "bronchi": "bronchus",
              "metastases": "metastasis", "diagnoses": "diagnosis", "fungi": "fungus",
              "phalanges": "phalanx", "vertebrae": "vertebra", "lipomata": "lipoma"}
_KEEP_S = ("ss", "us", "is", "ys", "os")
_EDGE_PUNCT = ".,;:"
_ACRONYM_MAX = 5
_TRAILING_NUMBER = re.compile(r"\s*,?\s+(?:type\s+)?(?:\d+[A-Za-z]?|[IVX]+[A-Za-z]?|[A-Z])$")
_SYNDROME = re.compile(r"\b(syndrome|disease)\b", re.IGNORECASE)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def singular(word: str) -> str:
    """A lower-case word's singular by common English rules (applied to names and texts
    alike, so a rule only has to be consistent, not always right)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) < 4 or not word.endswith("s") or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("xes", "sses", "shes", "zzes")) or (word.endswith("ches") and not word.endswith("aches")):
        return word[:-2]
    return word[:-1]


def token_keys(text: str) -> List[str]:
    """The keys of one token (none for whitespace, hyphens and possessives)."""
    text = _DASHES.sub("-", strip_accents(text)).strip()
    if not text or text.lower() in _POSSESSIVE:
        return []
    out = []
    for piece in _SPLIT.split(text):
        if any(c.isalnum() for c in piece):
            piece = piece.strip(_EDGE_PUNCT)  # "1B." at a sentence end is one token
        if not piece:
            continue
        if is_acronym(piece):
            out.append(piece)
        else:
            out.append(singular(piece.lower()))
    return out


def is_acronym(piece: str) -> bool:
    """Short all-capital pieces keep their case (``ALS`` is not ``als``)."""
    return len(piece) <= _ACRONYM_MAX and sum(c.isalpha() for c in piece) >= 2 and piece.isupper()


def capitalised_keys(keys: Sequence[str]) -> List[str]:
    """The keys a name has when written in capitals (``FABRY DISEASE``): short words are
    then read as acronyms, so a name needs this form too to match capitalised text."""
    return [k.upper() if len(k) <= _ACRONYM_MAX and is_acronym(k.upper()) else k for k in keys]


def doc_keys(words: Sequence[str]) -> Tuple[List[str], List[int], List[bool], List[bool]]:
    """Keys of a token sequence with, per key, its token index and whether it is the
    first / last key of that token (a match must start and end on token boundaries)."""
    keys: List[str] = []
    owner: List[int] = []
    first: List[bool] = []
    last: List[bool] = []
    for i, word in enumerate(words):
        pieces = token_keys(word)
        for j, piece in enumerate(pieces):
            keys.append(piece)
            owner.append(i)
            first.append(j == 0)
            last.append(j == len(pieces) - 1)
    return keys, owner, first, last


def _strip_qualifiers(name: str) -> List[str]:
    out = []
    head = name
    if "," in name:
        head = name.split(",", 1)[0].strip()
        if len(head.split()) >= 2:
            out.append(head)
    for base in (name, head):
        stripped = _TRAILING_NUMBER.sub("", base).strip()
        if stripped != base and stripped and len(stripped) >= 4:
            out.append(stripped)
    return out


def _swap_syndrome(name: str) -> List[str]:
    if not _SYNDROME.search(name):
        return []
    swapped = _SYNDROME.sub(lambda m: _swap_word(m.group(0)), name)
    return [swapped] if swapped != name else []


def _swap_word(word: str) -> str:
    other = "disease" if word.lower() == "syndrome" else "syndrome"
    return other.capitalize() if word[0].isupper() else other


def name_variants(name: str) -> List[str]:
    """Other forms of ``name`` (not ``name`` itself), in a fixed order, without repeats."""
    out: List[str] = []
    for form in [name, *_strip_qualifiers(name)]:
        for candidate in (form, *_swap_syndrome(form)):
            if candidate != name and candidate not in out:
                out.append(candidate)
    return out


def unique(items: Iterable[str]) -> List[str]:
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
