"""BIO tag set of the tagger, gold tags from spaCy Examples, constrained decoding.

Tags are ``O`` then ``B-X``, ``I-X`` for each label X. Decoding is Viterbi over the
per-word log-probabilities with the IOB2 constraints (``I-X`` only after ``B-X`` or
``I-X``), so every decoded sequence is a valid set of non-overlapping spans.
"""

from typing import List, Optional, Sequence, Tuple

import numpy as np

IGNORE = -100


class TagSet:
    def __init__(self, labels: Sequence[str]):
        self.labels = list(labels)
        self.tags = ["O"] + [f"{p}-{label}" for label in self.labels for p in ("B", "I")]
        self.index = {t: i for i, t in enumerate(self.tags)}
        n = len(self.tags)
        allowed = np.ones((n, n), dtype=bool)  # allowed[prev, cur]
        for cur, tag in enumerate(self.tags):
            if tag.startswith("I-"):
                label = tag[2:]
                allowed[:, cur] = False
                allowed[self.index[f"B-{label}"], cur] = True
                allowed[cur, cur] = True
        self.allowed = allowed
        self.allowed_start = np.array([not t.startswith("I-") for t in self.tags])

    def __len__(self) -> int:
        return len(self.tags)

    def from_biluo(self, biluo: Sequence[Optional[str]]) -> List[int]:
        """Tag ids from spaCy's BILUO tags; ``-``/None (misaligned, missing) -> IGNORE;
        labels outside the tag set -> O."""
        out = []
        for tag in biluo:
            if tag is None or tag == "-" or tag == "":
                out.append(IGNORE)
                continue
            if tag == "O":
                out.append(0)
                continue
            prefix, label = tag.split("-", 1)
            if label not in self.labels:
                out.append(0)
                continue
            out.append(self.index[("B-" if prefix in ("B", "U") else "I-") + label])
        return out

    def decode(self, log_probs: np.ndarray, active: Optional[np.ndarray] = None) -> List[int]:
        """Best valid tag sequence for ``log_probs`` (words x tags). Words where ``active`` is
        False (whitespace) are forced to O."""
        n_words, n_tags = log_probs.shape
        if n_words == 0:
            return []
        scores = log_probs.astype(np.float64).copy()
        if active is not None:
            forced = np.full(n_tags, -np.inf)
            forced[0] = 0.0
            scores[~active] = forced
        trans = np.where(self.allowed, 0.0, -np.inf)
        best = np.where(self.allowed_start, scores[0], -np.inf)
        back = np.zeros((n_words, n_tags), dtype=np.int64)
        for t in range(1, n_words):
            cand = best[:, None] + trans  # prev x cur
            back[t] = cand.argmax(axis=0)
            best = cand.max(axis=0) + scores[t]
        path = [int(best.argmax())]
        for t in range(n_words - 1, 0, -1):
            path.append(int(back[t, path[-1]]))
        return path[::-1]

    def spans(self, tag_ids: Sequence[int]) -> List[Tuple[int, int, str]]:
        """``(start_word, end_word, label)`` of a valid tag sequence."""
        out: List[Tuple[int, int, str]] = []
        start, label = None, None
        for i, t in enumerate(list(tag_ids) + [0]):
            tag = self.tags[t]
            if start is not None and not (tag.startswith("I-") and tag[2:] == label):
                out.append((start, i, label))
                start, label = None, None
            if tag.startswith("B-") or (tag.startswith("I-") and start is None):
                start, label = i, tag[2:]
        return out
