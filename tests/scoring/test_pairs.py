import pytest

from tests.scoring.gold_copier import copier_pipeline, gold_table
from raredis_llm.scoring.evaluate import evaluate
from raredis_llm.scoring.pairs import compare, compare_all, reader_pairs
from raredis_llm.scoring.units import Units

SYSTEMS = ["cnn", "trf", "llm_zeroshot", "llm_fewshot_random", "llm_fewshot_knn", "llm_rag", "llm_rag_knn",
           "llm_spacy_ner_v3", "lora_finetuned", "openai_llm_zeroshot", "openai_llm_fewshot_knn", "outside",
           "llm_rag_kb", "ensemble", "cnn_kb"]


def test_reader_pairs():
    scores = {"llm_fewshot_knn": 0.4, "lora_finetuned": 0.5, "openai_llm_fewshot_knn": 0.45}
    pairs = reader_pairs(SYSTEMS, lambda s: scores.get(s, 0.1), extra=[("outside", "cnn")])
    got = {(p.a, p.b): p.why for p in pairs}
    assert got[("llm_fewshot_knn", "llm_fewshot_random")] == "kNN vs random examples"
    assert got[("llm_rag", "llm_zeroshot")] == "RAG vs no RAG"
    assert got[("llm_rag_knn", "llm_fewshot_knn")] == "RAG vs no RAG, kNN examples"
    for st in ("llm_fewshot_random", "llm_fewshot_knn", "llm_rag_knn", "llm_spacy_ner_v3"):
        assert got[(st, "llm_zeroshot")] == "strategy vs zero-shot"
    assert got[("openai_llm_fewshot_knn", "openai_llm_zeroshot")] == "strategy vs zero-shot (openai)"
    assert got[("lora_finetuned", "openai_llm_fewshot_knn")] == "fine-tuned vs best prompting"
    assert got[("lora_finetuned", "cnn")] == got[("lora_finetuned", "trf")] == "best LLM pipeline vs baseline"
    assert got[("outside", "cnn")] == "asked for"
    assert got[("llm_rag_kb", "llm_rag")] == "knowledge-base vs document RAG"
    assert got[("llm_rag_kb", "llm_zeroshot")] == "strategy vs zero-shot"
    assert got[("ensemble", "cnn")] == got[("ensemble", "trf")] == "ensemble vs baseline"
    assert got[("cnn_kb", "cnn")] == "knowledge features vs none"
    assert not any(a == "trf_kb" for a, _ in got)  # no trf_kb metrics, no pair
    assert len(got) == len(pairs)  # each pair once
    assert not any("cluster" in a for a, _ in got)  # absent systems make no pair
    with pytest.raises(ValueError, match="nobody"):
        reader_pairs(SYSTEMS, lambda s: 0.0, extra=[("cnn", "nobody")])


def test_paired_comparison_on_shared_sentences(gold_docs):
    table = gold_table(gold_docs)
    perfect = evaluate(copier_pipeline(table), gold_docs, system="a", indices=list(range(6)))
    broken = {text: [] for text in table}  # predicts nothing
    # B scored a different sample: sentences 2..5 only
    b_docs = gold_docs[2:]
    nothing = evaluate(copier_pipeline(broken), b_docs, system="b", indices=[2, 3, 4, 5])
    a, b = Units.from_metrics(perfect), Units.from_metrics(nothing)
    d = compare(a, b, "strict", "5type", n_boot=200)
    assert (d.n_units, d.a, d.b, d.diff) == (4, 1.0, 0.0, 1.0)
    assert d.ci == (1.0, 1.0) and d.verdict == "A"
    doc = compare(a, b, "doc", "4type", n_boot=200)
    assert doc.n_units == 2 and doc.diff == 1.0  # sentences 2..5 are two documents
    rows = compare_all({"a": a, "b": b}, reader_pairs(["a", "b"], lambda s: 0, [("b", "a")]),
                       [("strict", "5type"), ("doc", "4type")], n_boot=100)
    (pair, n, diffs), = rows
    assert (pair.a, n) == ("b", 4) and diffs[0].diff == -1.0 and diffs[0].verdict == "B"
    disjoint = evaluate(copier_pipeline(table), gold_docs[:2], system="c", indices=[0, 1])
    assert compare(Units.from_metrics(disjoint), b, "strict", "5type") is None
