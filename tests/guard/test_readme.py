"""The Python snippets of the README's "Use it in your clinical pipeline" section run as
written, on the tiny CNN and a pipeline with its own trained ner."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from tests.guard.tiny_ner import drug_ner

ROOT = Path(__file__).resolve().parents[2]


def snippets():
    text = (ROOT / "README.md").read_text(encoding="utf8")
    section = text[text.index("## Use it in your clinical pipeline"):text.index("<!-- dropin:end")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.mark.slow
def test_snippets_run(tiny_cnn, tiny_corpus, tmp_path):
    """Each snippet runs in a fresh interpreter, as a user's script would (so a missing import
    or registration cannot be hidden by another test)."""
    blocks = snippets()
    assert len(blocks) == 2
    negatives = [d.text for d in DocBin().from_disk(tiny_corpus / "train.spacy").get_docs(spacy.blank("en").vocab)][:30]
    drug_ner(negatives).to_disk(tmp_path / "theirs")
    for code in blocks:
        code = code.replace('"training/cnn/model-best"', repr(str(tiny_cnn)))
        code = code.replace('"your_clinical_pipeline"', repr(str(tmp_path / "theirs")))
        code += "\nimport json\nprint('PIPES ' + json.dumps(nlp.pipe_names))\n"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                                timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        printed, pipes_line = result.stdout.rsplit("PIPES ", 1)
        pipe_names = json.loads(pipes_line)
        assert printed.startswith("[")
        if "negex" in pipe_names:
            assert pipe_names[0] == "raredis_boundaries" and pipe_names[-1] == "negex"
        else:
            assert pipe_names == ["raredis_boundaries", "ner", "raredis_ner", "raredis_entity_guard"]
            assert "DRUG" in printed
