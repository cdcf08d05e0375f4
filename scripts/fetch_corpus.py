"""Put the RareDis files into a folder: from $RAREDIS_DIR (or --source) if set, else
from the public URLs, checking md5 sums; unpack the zips.

    python scripts/fetch_corpus.py assets/raredis
"""

from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from raredis_llm.corpus.sources import ENV_VAR, fetch, unpack


def main(
    dest: Path = typer.Argument(..., help="Folder to fill (e.g. assets/raredis)"),
    source: Optional[Path] = typer.Option(None, help=f"Local folder with the same files (default: ${ENV_VAR})"),
):
    fetched = fetch(dest, source=source, log=msg.info)
    folder = unpack(fetched, extract_to=fetched)
    msg.good(f"RareDis files ready in {folder}")


if __name__ == "__main__":
    typer.run(main)
