"""Real spaCy components that fail on purpose, for the isolation and restart tests (also
imported by the annotate CLI with --code in a subprocess)."""

import os
import signal
from pathlib import Path

from spacy.language import Language
from spacy.util import minibatch

FAIL_ON = "raredis_test_fail_on"
KILL_ONCE = "raredis_test_kill_once"


class FailOn:
    """Raises on any batch holding a text with ``marker``. ``handled``: like spaCy's own
    pipes, report the batch to the error handler (which may drop it); else raise out of
    ``pipe`` (as a component without error handling does)."""

    def __init__(self, name: str, marker: str, handled: bool):
        self.name, self.marker, self.handled = name, marker, handled

    def __call__(self, doc):
        if self.marker in doc.text:
            raise ValueError(f"cannot handle {doc.text[:20]!r}")
        return doc

    def pipe(self, docs, batch_size=128):
        for batch in minibatch(docs, size=batch_size):
            try:
                if any(self.marker in d.text for d in batch):
                    raise ValueError("a document of this batch cannot be handled")
                yield from batch
            except ValueError as err:
                if not self.handled:
                    raise
                self.get_error_handler()(self.name, self, batch, err)

    def set_error_handler(self, handler):
        self.error_handler = handler

    def get_error_handler(self):
        from spacy.util import raise_error

        return getattr(self, "error_handler", raise_error)


@Language.factory(FAIL_ON, default_config={"marker": "BOOM", "handled": True})
def make_fail_on(nlp, name, marker: str, handled: bool):
    return FailOn(name, marker, handled)


@Language.factory(KILL_ONCE, default_config={"marker": "KILL", "flag": ""})
def make_kill_once(nlp, name, marker: str, flag: str):
    """SIGKILL the process at the first doc with ``marker``, once (``flag`` file records it)."""
    def kill_once(doc):
        if marker in doc.text and not Path(flag).exists():
            Path(flag).write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        return doc

    return kill_once
