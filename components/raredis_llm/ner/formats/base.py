"""What every answer format is: render gold spans, extract mentions, parse to offsets."""

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ...util import bundled_path
from ..align import DEFAULT_FUZZY_THRESHOLD, Mention, align_mentions
from ..text import LabelsArg, SnapFn, Span3


class OutputFormat:
    """Base class: ``render`` gold spans, ``extract`` mentions, ``parse`` to offsets."""

    name: str = ""
    #: what separates "Answer:" from the answer in prompts (a newline for line formats)
    answer_sep: str = " "

    @property
    def instructions(self) -> str:
        """What the prompt says about the format (``templates/formats/<name>.txt``)."""
        return bundled_path("formats", f"{self.name}.txt").read_text(encoding="utf8").strip()

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        """The gold answer for ``text`` with ``spans`` ``(start, end, label)``."""
        raise NotImplementedError

    def extract(self, text: str, answer: str) -> List[Mention]:
        """The mentions an answer gives, in answer order (never raises)."""
        raise NotImplementedError

    def constraint_strings(self, labels: Sequence[str]) -> List[str]:
        """Strings an answer may contain besides pieces of the input text (tags, separators):
        with the input they make the vocabulary of constrained decoding."""
        return []

    def answer_reference(self, text: str) -> str:
        """A complete answer's size without its tags: sizes the generation budget
        (:mod:`raredis_llm.ner.budget`). Default: the answer when nothing is tagged."""
        return self.render(text, [])

    def parse(
        self,
        text: str,
        answer: Any,
        labels: LabelsArg,
        *,
        snap: Optional[SnapFn] = None,
        fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
    ) -> Tuple[List[Span3], Dict[str, Any]]:
        """Parse a model answer into sorted, non-overlapping ``(start, end, label)`` spans.

        text: the input text the answer is about. answer: the model output (any ``str``;
        ``None`` counts as empty). labels: allowed labels or ``{alias: label}``.
        snap: optional ``(start, end) -> (start, end) | None`` applied to each match
        before overlap resolution (e.g. token alignment via ``Doc.char_span``).
        Returns ``(spans, stats)``; stats as in the module docstring.
        """
        answer = "" if answer is None else str(answer)
        try:
            mentions = self.extract(text, answer)
        except Exception:  # pragma: no cover - extract is written not to raise
            mentions = [Mention(text="", label="", malformed=True)]
        return align_mentions(text, mentions, labels, snap=snap, fuzzy_threshold=fuzzy_threshold)
