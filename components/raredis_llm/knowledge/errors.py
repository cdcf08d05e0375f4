"""The error raised for a broken knowledge-base source file: it names the file and line."""

from pathlib import Path
from typing import Optional, Union


class SourceFileError(ValueError):
    """A malformed, truncated or inconsistent source file (``file:line: message``)."""

    def __init__(self, path: Union[str, Path], line: Optional[int], message: str):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
