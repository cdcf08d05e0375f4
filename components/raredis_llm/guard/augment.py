"""``raredis.NoisyCopies.v1``: a training augmenter adding lightly noised copies.

Every training example is kept; with probability ``level`` a noised copy follows it.
Each copy gets one or more of: all capitals, line breaks between words, the sentence
turned into a bullet list (at its commas), HTML tags around it and around one entity.
Noise goes between tokens outside entities only, so the gold entities keep their words
and labels and never contain a line break or a tag. Draws use Python's ``random``,
which ``spacy train`` seeds from ``[training] seed``.

    [corpora.train.augmenter]
    @augmenters = "raredis.NoisyCopies.v1"
    level = 0.1
"""

import random
from typing import Callable, Iterator, List, Tuple

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

Item = Tuple[str, bool, str]  # word, followed by a space, IOB tag ("" = missing)
KINDS = ("uppercase", "line_breaks", "bullets", "markup")


def _items(doc: Doc) -> List[Item]:
    out = []
    for token in doc:
        iob = token.ent_iob_
        tag = f"{iob}-{token.ent_type_}" if iob in ("B", "I") else iob
        out.append((token.text, bool(token.whitespace_), tag))
    return out


def _free_gaps(items: List[Item]) -> List[int]:
    """Positions ``g`` (before item ``g``) where a token can go without entering an entity."""
    return [g for g in range(1, len(items)) if not items[g][2].startswith("I-")]


def _insert(items: List[Item], g: int, new: List[Item]) -> List[Item]:
    word, _, tag = items[g - 1]
    return items[: g - 1] + [(word, False, tag)] + new + items[g:]


def uppercase(items: List[Item], rng: random.Random) -> List[Item]:
    return [(w.upper(), s, t) for w, s, t in items]


def line_breaks(items: List[Item], rng: random.Random) -> List[Item]:
    gaps = _free_gaps(items)
    for g in sorted(rng.sample(gaps, k=min(len(gaps), rng.randint(1, 3))), reverse=True):
        items = _insert(items, g, [("\n", False, "O")])
    return items


def bullets(items: List[Item], rng: random.Random) -> List[Item]:
    out: List[Item] = [("Findings", False, "O"), (":", False, "O"), ("\n", False, "O"), ("-", True, "O")]
    for i, (word, space, tag) in enumerate(items):
        if word in (",", ";") and tag == "O" and 0 < i < len(items) - 1:
            out.extend([("\n", False, "O"), ("-", True, "O")])
        else:
            out.append((word, space, tag))
    return out


def markup(items: List[Item], rng: random.Random) -> List[Item]:
    starts = [i for i, (_, _, t) in enumerate(items) if t.startswith("B-")]
    if starts:
        b = rng.choice(starts)
        e = b + 1
        while e < len(items) and items[e][2].startswith("I-"):
            e += 1
        word, space, tag = items[e - 1]
        items = items[:b] + [("<b>", False, "O")] + items[b:e - 1] + [(word, False, tag), ("</b>", space, "O")] + items[e:]
    word, _, tag = items[-1]
    return [("<p>", False, "O")] + items[:-1] + [(word, False, tag), ("</p>", False, "O")]


NOISE = {"uppercase": uppercase, "line_breaks": line_breaks, "bullets": bullets, "markup": markup}


def noised_copy(nlp: Language, example: Example, kinds: List[str], rng: random.Random) -> Example:
    """A copy of ``example`` with the noise ``kinds`` applied to its reference tokens."""
    items = _items(example.reference)
    for kind in kinds:
        items = NOISE[kind](items, rng)
    words, spaces, tags = zip(*items)
    reference = Doc(nlp.vocab, words=list(words), spaces=list(spaces), ents=list(tags))
    return Example(nlp.make_doc(reference.text), reference)


@registry.augmenters("raredis.NoisyCopies.v1")
def create_noisy_copies(
    level: float = 0.1, uppercase: float = 0.4, line_breaks: float = 0.4, bullets: float = 0.3, markup: float = 0.3,
) -> Callable[[Language, Example], Iterator[Example]]:
    """Keep each example; with probability ``level`` add a noised copy. The other
    arguments are each noise's probability within a copy (at least one is applied)."""
    weights = {"uppercase": uppercase, "line_breaks": line_breaks, "bullets": bullets, "markup": markup}

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        yield example
        if level <= 0 or len(example.reference) == 0 or random.random() >= level:
            return
        kinds = [k for k in KINDS if random.random() < weights[k]]
        if not kinds:
            kinds = random.choices(KINDS, weights=[weights[k] for k in KINDS]) if any(weights.values()) else []
        if kinds:
            yield noised_copy(nlp, example, kinds, random.Random(random.random()))

    return augment
