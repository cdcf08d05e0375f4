"""Write configs/openai/llm_*.cfg from configs/llm_*.cfg (see raredis_llm.llm.backend_configs).

    python scripts/make_backend_configs.py [configs] [--check]
"""

from pathlib import Path

import typer
from wasabi import msg

from raredis_llm.llm.backend_configs import generate


def main(
    configs_dir: Path = typer.Argument(Path("configs"), exists=True, file_okay=False),
    backend: str = typer.Option("openai", "--backend"),
    check: bool = typer.Option(False, "--check", help="Only report files that are out of date (exit 1)"),
):
    stale = []
    for path, text in generate(configs_dir, backend).items():
        if path.exists() and path.read_text(encoding="utf8") == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf8")
            msg.good(f"Wrote {path}")
    if check and stale:
        msg.fail(f"Out of date: {', '.join(map(str, stale))}; run scripts/make_backend_configs.py", exits=1)
    if not stale:
        msg.good("All backend configs are up to date")


if __name__ == "__main__":
    typer.run(main)
