"""What counts as a line break, a markup tag, a list bullet or a control character.

One definition for the tokenizer rule, the boundary component, the entity guard and the
training augmenter.
"""

import re
import unicodedata

#: An HTML/XML tag or comment: ``<p>``, ``</b>``, ``<br/>``, ``<td class="x">``, ``<!-- x -->``.
MARKUP_TAG = r"(?:<!--.*?-->|</?[A-Za-z][A-Za-z0-9:_-]*(?:\s[^<>]*)?/?>)"
#: An HTML character reference: ``&amp;``, ``&nbsp;``, ``&#160;``.
CHAR_REF = r"(?:&(?:[A-Za-z]{2,8}|#[0-9]{1,6}|#x[0-9A-Fa-f]{1,6});)"

_TAG = re.compile(MARKUP_TAG)
_TAG_FULL = re.compile(MARKUP_TAG + r"\Z")
_SPLIT = re.compile(f"({MARKUP_TAG}|{CHAR_REF})")

#: Characters that end a line (``str.splitlines`` without the ASCII separators 0x1c-0x1e).
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")
#: List bullets, when they open a line.
BULLETS = frozenset("-*+•·‣◦▪▫–—⁃●○■□➢➤►>")
_NUMBERED = re.compile(r"(?:\(?[0-9]{1,3}|\(?[A-Za-z])[.)]\Z")


def is_line_break(text: str) -> bool:
    """True if ``text`` (a token's text) contains a line-ending character."""
    return any(ch in LINE_BREAKS for ch in text)


def is_markup(text: str) -> bool:
    """True if ``text`` is exactly one markup tag or comment."""
    return _TAG_FULL.match(text) is not None


def has_markup(text: str) -> bool:
    """True if ``text`` contains a markup tag or a character reference glued to other text."""
    return len(_SPLIT.split(text)) > 1 and not is_markup(text)


def markup_pieces(text: str) -> list:
    """``text`` cut before and after every tag and character reference (no empty pieces)."""
    return [piece for piece in _SPLIT.split(text) if piece]


def is_bullet(text: str) -> bool:
    """True if ``text`` looks like a list bullet or a list number (``-``, ``•``, ``1.``, ``a)``)."""
    return (len(text) == 1 and text in BULLETS) or (len(text) <= 5 and _NUMBERED.match(text) is not None)


def is_control(ch: str) -> bool:
    """A control character (Unicode Cc) other than tab and the line breaks."""
    return ch not in LINE_BREAKS and ch != "\t" and unicodedata.category(ch) == "Cc"


def model_text(text: str) -> str:
    """``text`` with every control character replaced by a space: same length, same offsets."""
    if not any(is_control(ch) for ch in text):
        return text
    return "".join(" " if is_control(ch) else ch for ch in text)
