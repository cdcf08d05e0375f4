"""``python -m raredis_llm annotate``: the command line of :func:`.runner.annotate`."""

import json
import logging
from pathlib import Path
from typing import List, Optional

import typer
from spacy.cli._util import parse_config_overrides
from wasabi import msg

from .engines import ENGINES
from .pipelines import DEFAULT_WORK_DIR, load_pipeline
from .runner import annotate

HELP = (
    "Annotate a corpus with a spaCy pipeline: resumable, nothing lost.\n\n"
    "PIPELINE is an installed package (en_raredis_llm), a pipeline folder "
    "(training/cnn/model-best) or a config (configs/cnn.cfg: trained or assembled once into "
    "--work-dir). Config overrides follow the options: --paths.train corpus/train.spacy for a "
    "config, --components.llm.model.base_url http://host:8000/v1 for a saved pipeline. "
    "INPUT is a folder of .txt files, a JSONL file ({\"id\": ..., \"text\": ...} a line) or a DocBin "
    "(.spacy, or a folder of them). OUTPUT is a JSONL file, one line per document; failed "
    "documents go to OUTPUT.errors.jsonl with the reason, the run summary to "
    "OUTPUT.summary.json.\n\n"
    "Run the same command again after an interruption: documents already written are skipped."
)


def annotate_command(
    ctx: typer.Context,
    pipeline: str = typer.Argument(..., help="Package name, pipeline folder or .cfg"),
    input_path: Path = typer.Argument(..., help="Folder of .txt, JSONL file or DocBin", exists=True),
    output: Path = typer.Argument(..., help="Output JSONL (one line per document)", dir_okay=False),
    fmt: str = typer.Option("auto", "--format", "-f", help="Input format: auto, txt, jsonl, docbin"),
    id_field: str = typer.Option("id", "--id-field", help="JSONL key of the document id"),
    text_field: str = typer.Option("text", "--text-field", help="JSONL key of the text"),
    docbin: Optional[Path] = typer.Option(None, "--docbin", help="Also write the Docs as DocBin shards into this folder"),
    errors: Optional[Path] = typer.Option(None, "--errors", help="Errors file (default OUTPUT.errors.jsonl)"),
    summary: Optional[Path] = typer.Option(None, "--summary", help="Summary file (default OUTPUT.summary.json)"),
    engine_name: str = typer.Option("spacy", "--engine", help=f"How the pipeline runs: {', '.join(ENGINES)}"),
    batch_size: int = typer.Option(64, "--batch-size", "-b", help="Documents per nlp.pipe batch"),
    n_process: int = typer.Option(1, "--n-process", "-n", help="Worker processes (CPU pipelines)"),
    commit_every: int = typer.Option(32, "--commit-every", help="Documents between safe points (flush + fsync)"),
    span_ext: List[str] = typer.Option([], "--span-ext", help="Span extension to write even when not stored on the entity (repeatable)"),
    guards: bool = typer.Option(True, "--guard/--no-guard", help="Add raredis_boundaries and raredis_entity_guard"),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="nlp.max_length (characters per document)"),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run the documents of the errors file again"),
    work_dir: Path = typer.Option(DEFAULT_WORK_DIR, "--work-dir", help="Where a .cfg pipeline is built"),
    llm_backend: Optional[str] = typer.Option(None, "--llm-backend", help="A prompting strategy config on another backend: hf, openai (a served engine: vLLM, llama.cpp...), llamacpp"),
    code: Optional[Path] = typer.Option(None, "--code", "-c", help="Python file to import first (registered functions)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar"),
    verbose: bool = typer.Option(False, "--verbose", "-V", help="Log more"),
):
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    import spacy

    if code is not None:
        spacy.util.import_file("code", code)
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    if engine_name not in ENGINES:
        raise typer.BadParameter(f"unknown engine {engine_name!r}; known: {', '.join(ENGINES)}")
    overrides = parse_config_overrides(ctx.args)
    try:  # what the user can fix (a wrong name or path, a damaged output file) is one clear line
        nlp = load_pipeline(pipeline, overrides=overrides, work_dir=work_dir, guards=guards, max_length=max_length,
                            llm_backend=llm_backend)
        msg.info(f"{pipeline}: {', '.join(nlp.pipe_names)}")
        engine = ENGINES[engine_name](nlp, batch_size=batch_size, n_process=n_process)
        try:
            result = annotate(engine, input_path, output, fmt=fmt, id_field=id_field, text_field=text_field,
                              docbin=docbin, errors=errors, summary=summary, commit_every=commit_every,
                              span_extensions=span_ext, retry_failed=retry_failed, progress=progress)
        finally:
            engine.close()
    except (ValueError, FileNotFoundError) as err:
        msg.fail(str(err), exits=1)
    msg.table([[k, result[k]] for k in ("input", "done", "failed", "skipped_done", "skipped_failed")],
              header=["documents", "count"], divider=True)
    if result["repaired"]:
        msg.warn(f"repaired: {json.dumps(result['repaired'])}")
    if result["failed"]:
        msg.warn(f"{result['failed']} documents failed: see {result['errors']}")
    msg.good(f"{result['docs_per_s']} docs/s; wrote {result['output']}")


def make_app() -> typer.Typer:
    app = typer.Typer(name="raredis_llm", add_completion=False, no_args_is_help=True)

    @app.callback()
    def main():
        """raredis_llm command line."""
    app.command("annotate", help=HELP,
                context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(annotate_command)
    return app
