"""Engine benchmark of the fine-tuned component, and LoRA training speed (benchmark-llm).

    python scripts/benchmark_llm.py training/raredis_llm_ner --test corpus/test.spacy --n 48 \
        --validation corpus/validation.spacy --finetune-config configs/finetune_cpu.cfg \
        --instructions corpus/instructions/train.jsonl --output metrics/benchmark_llm.json

Prints and writes: the CPU (capability, native bf16, the dtype "auto" chose), a float32 vs
bfloat16 matrix-product probe, words/s of every engine and lever on the same seeded test
sentences as ratios to plain transformers greedy decoding with their agreement, the F1
effect of constrained decoding on validation sentences, and training sentences/s of the
recipe before and after (in each dtype worth timing on this CPU).
"""

from pathlib import Path
from typing import Optional

import spacy
import typer
from spacy.tokens import DocBin
from wasabi import msg

from raredis_llm.bench.inference import compare, default_levers, run_lever, run_prompting, score_constraint_effect
from raredis_llm.bench.training import compare_recipes
from raredis_llm.corpus.schema import DOC_ID, SENT_INDEX
from raredis_llm.models.precision import cpu_info, matmul_probe, resolve_dtype_name
from raredis_llm.scoring.evaluate import sample_docs
from raredis_llm.util import write_json

app = typer.Typer(add_completion=False)


def _llama_cpp_ok() -> bool:
    try:
        from raredis_llm.models.llama_server import check_installed

        check_installed()
        return True
    except ImportError:
        return False


@app.command()
def main(
    pipeline: Path = typer.Argument(..., help="The fine-tuned pipeline (training/raredis_llm_ner)"),
    test: Path = typer.Option(Path("corpus/test.spacy"), help="Sentence-level test DocBin"),
    validation: Optional[Path] = typer.Option(None, help="Validation DocBin for the F1 effect of the constraint"),
    n: int = typer.Option(48, help="Sentences of the seeded sample (the same for every lever)"),
    seed: int = typer.Option(0),
    batch_size: int = typer.Option(32, help="Sentences per generation batch"),
    finetune_config: Optional[Path] = typer.Option(None, help="Fine-tuning config for the training rows"),
    instructions: Optional[Path] = typer.Option(None, help="Instruction records (train.jsonl) for the training rows"),
    training_steps: int = typer.Option(4, help="Timed training steps per row"),
    prompting: Optional[str] = typer.Option(None, help="Assembled prompting pipelines to time too, comma-separated "
                                            "(e.g. training/llm_zeroshot,training/llm_fewshot_knn)"),
    prompting_n: int = typer.Option(16, help="The first N sentences of the sample for the prompting rows (0 = all n)"),
    output: Path = typer.Option(Path("metrics/benchmark_llm.json")),
):
    info = cpu_info()
    auto, reason = resolve_dtype_name("auto", "cpu")
    msg.info(f"CPU: {info.model or '?'}; capability {info.capability}; native bf16: {info.native_bf16}; "
             f"threads {info.threads}; dtype auto -> {auto} ({reason})")
    probe = matmul_probe()
    msg.info(f"512x640 @ 640x2048 matmul: float32 {probe['float32']} GFLOP/s, bfloat16 {probe['bfloat16']} GFLOP/s")
    nlp = spacy.blank("en")
    _, docs = sample_docs(list(DocBin().from_disk(test).get_docs(nlp.vocab)), n, seed)
    texts = [d.text for d in docs]
    has_llama = _llama_cpp_ok()
    rows = []
    for lever in default_levers(auto, batch_size):
        if lever.needs_llama_cpp and not has_llama:
            msg.warn(f"{lever.name}: skipped (llama-cpp-python is not installed: scripts/setup.sh --test)")
            continue
        if lever.served:
            from raredis_llm.models.llama_server import free_port, running_server

            gguf = pipeline / "raredis_llm_ner" / "adapter" / "adapter.gguf"
            with running_server(lora=gguf if gguf.exists() else None, port=free_port(), n_ctx=4096) as url:
                rows.append(run_lever(pipeline, lever, texts, served_url=url))
            continue
        rows.append(run_lever(pipeline, lever, texts))
    compare(rows)
    msg.table([(r["lever"], f"{r['words_per_second']:.1f}", f"{r['speedup_vs_reference']:.2f}x",
                f"{r['agreement']['same_entities']}/{r['agreement']['sentences']}",
                "yes" if r["alters_outputs"] else "no") for r in rows],
              header=["engine / lever", "words/s", "vs reference", "same entities", "meant to alter"], divider=True)
    result = {"cpu": info.to_dict(), "dtype_auto": {"dtype": auto, "reason": reason}, "matmul_gflops": probe,
              "test": str(test), "seed": seed, "sentences": len(texts),
              "sample": [f"{d.user_data.get(DOC_ID)}:{d.user_data.get(SENT_INDEX)}" for d in docs],
              "rows": [{k: v for k, v in r.items() if k != "ents"} for r in rows]}
    if prompting:
        prompt_texts = texts[:prompting_n] if prompting_n else texts
        result["prompting_sentences"] = len(prompt_texts)
        result["prompting"] = {}
        for path in [Path(p) for p in prompting.split(",") if p]:
            if not path.exists():
                msg.warn(f"{path}: not assembled, skipped")
                continue
            prompt_rows = run_prompting(path, prompt_texts)
            result["prompting"][path.name] = [{k: v for k, v in r.items() if k != "ents"} for r in prompt_rows]
    if validation is not None:
        _, val = sample_docs(list(DocBin().from_disk(validation).get_docs(nlp.vocab)), n, seed)
        result["constraint_effect_validation"] = effect = score_constraint_effect(pipeline, val, batch_size)
        msg.info(f"Constrained decoding on {effect['sentences']} validation sentences: F1 {effect['constrained']['f']} "
                 f"(free: {effect['free']['f']})")
    if finetune_config is not None and instructions is not None:
        dtypes = ["float32", "bfloat16"]
        result["training"] = compare_recipes(str(finetune_config), str(instructions), dtypes, info.native_bf16,
                                             steps=training_steps)
    write_json(result, output)
    msg.good(f"Wrote {output}")


if __name__ == "__main__":
    app()
