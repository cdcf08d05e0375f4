"""dtype "auto" on CPUs with and without native bf16, and the configs that use it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import srsly
from spacy.util import load_config

from raredis_llm.models.precision import (
    CPUInfo, cpu_dtype_choice, cpu_info, resolve_dtype, resolve_dtype_name, resolve_threads, usable_cores)

ROOT = Path(__file__).resolve().parents[2]

NATIVE = CPUInfo(capability="AVX512", bf16_flags=("avx512_bf16",), onednn_bf16=True, model="x", threads=2)
AVX2 = CPUInfo(capability="AVX2", bf16_flags=(), onednn_bf16=False, model="x", threads=2)
AVX512_NO_BF16 = CPUInfo(capability="AVX512", bf16_flags=(), onednn_bf16=True, model="x", threads=2)
CAPPED = CPUInfo(capability="AVX2", bf16_flags=("avx512_bf16",), onednn_bf16=False, model="x", threads=2)


@pytest.mark.parametrize("info,expected", [
    (NATIVE, "bfloat16"), (AVX2, "float32"), (AVX512_NO_BF16, "float32"), (CAPPED, "float32")])
def test_auto_follows_native_bf16(info, expected):
    name, reason = resolve_dtype_name("auto", "cpu", info=info)
    assert name == expected
    assert reason == cpu_dtype_choice(info)[1]
    assert ("natively" in reason) == (expected == "bfloat16")


@pytest.mark.parametrize("given,expected", [("float32", "float32"), ("bf16", "bfloat16"),
                                            ("torch.float16", "float16"), ("FP32", "float32")])
def test_forced_dtype_wins_on_any_cpu(given, expected):
    for info in (NATIVE, AVX2):
        assert resolve_dtype_name(given, "cpu", info=info) == (expected, "set in the config")


def test_unknown_dtype_is_an_error():
    with pytest.raises(ValueError, match="int3"):
        resolve_dtype_name("int3", "cpu")


def test_resolve_dtype_logs_the_auto_choice():
    import torch

    said = []
    dtype = resolve_dtype("auto", "cpu", log=said.append)
    assert dtype in (torch.float32, torch.bfloat16)
    assert said and str(dtype).replace("torch.", "") in said[0]
    assert resolve_dtype(torch.float16) is torch.float16


def test_threads_default_to_usable_cores():
    assert resolve_threads(0) == resolve_threads("auto") == usable_cores() >= 1
    assert resolve_threads(3) == 3


def test_avx2_machine_gets_float32():
    """A real process with the CPU capped to AVX2 (what an AVX2-only laptop runs) picks float32."""
    code = ("import json; from raredis_llm.models.precision import cpu_info, resolve_dtype_name; "
            "print(json.dumps([cpu_info().to_dict(), resolve_dtype_name('auto', 'cpu')]))")
    env = dict(os.environ, ATEN_CPU_CAPABILITY="avx2", ONEDNN_MAX_CPU_ISA="AVX2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    info, (name, reason) = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["capability"] in ("AVX2", "DEFAULT")
    assert info["native_bf16"] is False
    assert name == "float32", reason


def test_this_machine_is_described():
    info = cpu_info().to_dict()
    assert info["threads"] >= 1 and info["capability"]
    assert resolve_dtype_name("auto", "cpu")[0] == ("bfloat16" if info["native_bf16"] else "float32")


def test_cpu_configs_say_auto():
    """Every CPU profile leaves the dtype to the machine."""
    ft = load_config(ROOT / "configs" / "finetune_cpu.cfg", interpolate=False)
    assert ft["model"]["dtype"] == "auto"
    pipe = load_config(ROOT / "configs" / "raredis_llm_ner.cfg", interpolate=False)
    assert pipe["components"]["raredis_llm_ner"]["dtype"] == "auto"
    project = srsly.read_yaml(ROOT / "project.yml")
    assert project["vars"]["llm_dtype"] == "auto"
    for path in sorted((ROOT / "configs").glob("*.cfg")):
        text = path.read_text()
        assert 'dtype = "bfloat16"' not in text or "gpu" in path.name, path
