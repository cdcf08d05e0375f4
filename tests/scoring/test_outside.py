import csv
import json
import zipfile
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from tests.scoring.gold_copier import copier_pipeline, gold_table
from tests.scoring.script_runner import run_script
from raredis_llm.corpus import schema
from raredis_llm.corpus.brat import write_brat
from raredis_llm.corpus.convert import convert_files
from raredis_llm.corpus.docs import ents_to_brat
from raredis_llm.scoring.evaluate import evaluate, sample_docs
from raredis_llm.scoring.outside import document_texts, evaluate_predictions, predictions_kind, read_predictions
from raredis_llm.scoring.units import SCORE_KEYS

N_DOCS = 5


@pytest.fixture(scope="module")
def real_gold(raredis_dir, tmp_path_factory):
    """A few real RareDis test documents: their BRAT folder and their sentence Docs."""
    folder = tmp_path_factory.mktemp("gold_brat")
    with zipfile.ZipFile(raredis_dir / "dev.zip") as z:
        stems = sorted({Path(n).stem for n in z.namelist() if n.endswith(".ann")})[:N_DOCS]
        for stem in stems:
            for ext in (".ann", ".txt"):
                (folder / f"{stem}{ext}").write_bytes(z.read(f"dev/{stem}{ext}"))
    _, sents, _ = convert_files(sorted(folder.glob("*.ann")))
    return folder, sents


def noisy_pipeline(gold_docs):
    """A gold copier with errors of every kind (misses, wrong types, shifted boundaries, extras)."""
    table = gold_table(gold_docs)
    for i, doc in enumerate(gold_docs):
        ents = table[doc.text]
        if i % 3 == 0 and ents:
            ents.pop()
        elif i % 3 == 1 and ents:
            s, e, label = ents[0]
            ents[0] = [s, e, "SIGN" if label != "SIGN" else "DISEASE"]
        elif ents and ents[-1][1] - ents[-1][0] > 4:
            ents[-1] = [ents[-1][0], ents[-1][1] - 2, ents[-1][2]]
        if i % 4 == 0 and doc.text[:3].strip() and all(s >= 3 for s, _, _ in ents):
            ents.insert(0, [0, 3, "SYMPTOM"])
    return copier_pipeline(table)


def assert_same_scores(a, b):
    for view in a["views"]:
        for key in list(SCORE_KEYS.values()):
            assert a["views"][view][key] == b["views"][view][key], (view, key)
        assert a["views"][view]["errors"]["counts"] == b["views"][view]["errors"]["counts"], view
    assert a["units"]["keys"] == b["units"]["keys"]


def write_token_csv(path, pred_docs, with_start=True, delimiter=","):
    with open(path, "w", newline="", encoding="utf8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(["doc_id", "token", "tag"] + (["start"] if with_start else []))
        for doc in pred_docs:
            offset = doc.user_data[schema.CHAR_OFFSET]
            for tok in doc:
                if tok.is_space:
                    continue
                tag = "O" if tok.ent_iob_ == "O" else f"{tok.ent_iob_}-{tok.ent_type_}"
                writer.writerow([doc.user_data[schema.DOC_ID], tok.text, tag] + ([offset + tok.idx] if with_start else []))


def test_kinds(real_gold, tmp_path):
    folder, _ = real_gold
    assert predictions_kind(folder) == "brat"
    (tmp_path / "p.tsv").write_text("doc_id\ttoken\ttag\n")
    assert predictions_kind(tmp_path / "p.tsv") == "csv"
    assert predictions_kind(tmp_path) is None


def test_gold_brat_scores_one(real_gold):
    folder, sents = real_gold
    metrics = evaluate_predictions(folder, sents, spacy.blank("en"), "gold-brat")
    assert metrics["n_docs"] == len(sents) > 20
    for view, res in metrics["views"].items():
        for key in SCORE_KEYS.values():
            assert res[key]["micro"]["f"] == 1.0 and res[key]["macro"]["f"] == 1.0, (view, key)
    assert metrics["alignment"]["misaligned"] == 0
    # the gold files hold ANAPHOR, discontinuous and nested entities: projected as the converter does
    assert metrics["outside"]["dropped_non_target_label"] > 0


def test_brat_and_csv_give_the_harness_numbers_on_a_pipeline_output(real_gold, tmp_path):
    folder, sents = real_gold
    nlp = noisy_pipeline(sents)
    harness = evaluate(nlp, sents, system="noisy", indices=list(range(len(sents))))
    assert 0.3 < harness["views"]["5type"]["seqeval"]["micro"]["f"] < 0.95
    preds = list(nlp.pipe([d.text for d in sents]))
    for pred, gold in zip(preds, sents):
        for key in (schema.DOC_ID, schema.SENT_INDEX, schema.CHAR_OFFSET):
            pred.user_data[key] = gold.user_data[key]
    out = tmp_path / "brat"
    for brat in ents_to_brat(preds, document_texts(sents)):
        write_brat(brat, out)
    from_brat = evaluate_predictions(out, sents, spacy.blank("en"), "noisy-brat")
    assert_same_scores(from_brat, harness)
    for with_start, name in ((True, "p.csv"), (False, "p.tsv")):
        path = tmp_path / name
        write_token_csv(path, preds, with_start, "," if name.endswith("csv") else "\t")
        from_csv = evaluate_predictions(path, sents, spacy.blank("en"), "noisy-csv")
        assert_same_scores(from_csv, harness)


def test_outside_scores_use_the_shared_sample(real_gold):
    folder, sents = real_gold
    metrics = evaluate_predictions(folder, sents, spacy.blank("en"), "gold", n_docs=7, seed=3)
    indices, docs = sample_docs(sents, 7, 3)
    assert metrics["sample"]["indices"] == indices and metrics["n_docs"] == 7
    assert metrics["n_docs_total"] == len(sents)


def test_ill_formed_tags_score_differently_in_the_two_seqeval_modes(real_gold, tmp_path):
    folder, sents = real_gold
    gold = next(d for d in sents if any(len(e) > 1 for e in d.ents))
    ent = next(e for e in gold.ents if len(e) > 1)
    path = tmp_path / "illformed.csv"
    offset = gold.user_data[schema.CHAR_OFFSET]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["doc_id", "token", "tag", "start"])
        for tok in gold:
            tag = f"I-{ent.label_}" if ent.start <= tok.i < ent.end else "O"  # no B-
            w.writerow([gold.user_data[schema.DOC_ID], tok.text, tag, offset + tok.idx])
    metrics = evaluate_predictions(path, [gold], spacy.blank("en"), "illformed")
    res = metrics["views"]["5type"]
    assert res["seqeval"]["micro"]["p"] == 0.0  # strict: an I- start is no entity
    assert res["seqeval_default"]["per_type"][ent.label_]["p"] == 1.0
    assert res["doc_level"]["micro"]["p"] == 0.0  # doc.ents are the strict chunks


def test_clear_errors(real_gold, tmp_path):
    folder, sents = real_gold
    partial = tmp_path / "partial"
    partial.mkdir()
    first = sorted(folder.glob("*.ann"))[0]
    (partial / first.name).write_bytes(first.read_bytes())
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match=rf"no predictions for {N_DOCS - 1} of {N_DOCS} documents"):
        read_predictions(partial, sents, nlp)
    docs, stats = read_predictions(partial, sents, nlp, allow_missing=True)
    assert stats["documents_without_predictions"] == N_DOCS - 1 and len(docs) == len(sents)
    ann = partial / first.name
    ann.write_text(ann.read_text().replace("\tRAREDISEASE ", "\tRare_Disease "))
    _, stats = read_predictions(partial, sents, nlp, allow_missing=True)
    assert stats["unknown_label:Rare_Disease"] > 0
    bad = tmp_path / "bad.csv"
    doc_id = sents[0].user_data[schema.DOC_ID]
    bad.write_text(f"doc_id,token,tag\n{doc_id},{sents[0][0].text},O\n{doc_id},nonsense-token,O\n")
    with pytest.raises(ValueError, match=r"bad.csv:3: token 'nonsense-token' does not follow"):
        read_predictions(bad, sents, nlp, allow_missing=True)
    bad.write_text(f"doc_id,token,tag\n{doc_id},{sents[0][0].text},X-SIGN\n")
    with pytest.raises(ValueError, match=r"bad.csv:2: tag 'X-SIGN' is not IOB2"):
        read_predictions(bad, sents, nlp, allow_missing=True)
    bad.write_text("id,token,label\n")
    with pytest.raises(ValueError, match=r"header must name"):
        read_predictions(bad, sents, nlp)


def test_cli_scores_a_brat_folder(real_gold, tmp_path):
    folder, sents = real_gold
    gold_path = tmp_path / "test.spacy"
    DocBin(docs=sents, store_user_data=True).to_disk(gold_path)
    out = tmp_path / "metrics" / "outside.json"
    result = run_script("evaluate.py", [folder, gold_path, "--system", "outside", "--output", out,
                                        "--n-docs", "10", "--bootstrap-n", "100"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert metrics["pipeline"] == ["outside:brat"] and metrics["n_docs"] == 10
    assert metrics["views"]["4type"]["doc_level"]["micro"]["f"] == 1.0
    assert "micro F1 (95% CI)" in result.output
