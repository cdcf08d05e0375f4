"""``python -m raredis_llm <command>``: the package's command line (``annotate``)."""

from .annotate.cli import make_app


def main() -> None:
    make_app()()


if __name__ == "__main__":
    main()
