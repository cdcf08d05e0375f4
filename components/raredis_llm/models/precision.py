"""Choose the compute dtype and thread count from what this machine can do fast.

``dtype = "auto"`` resolves to bfloat16 on a CUDA device that supports it (float16
otherwise) and, on a CPU, to bfloat16 only where the CPU computes bf16 natively
(AVX512-BF16 or AMX, and oneDNN allowed to use it); float32 everywhere else. On CPUs
without native bf16 a bf16 matrix product falls back to slow kernels. The decision is
made from capability flags, never from a timing, so it is the same on every run on one
machine; :func:`matmul_probe` measures both dtypes for benchmarks and reports.
"""

import logging
import os
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Dict, Optional, Tuple

logger = logging.getLogger(__name__)

DTYPE_NAMES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float16": "float16", "fp16": "float16", "half": "float16",
}
#: CPU flags (``/proc/cpuinfo``) that mean bf16 matrix products run in hardware.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class CPUInfo:
    """What decides the CPU dtype, as recorded in metadata and benchmark output."""

    capability: str  # torch.backends.cpu.get_cpu_capability(): AVX512, AVX2, DEFAULT, ...
    bf16_flags: Tuple[str, ...]  # the NATIVE_BF16_FLAGS this CPU reports
    onednn_bf16: bool  # oneDNN may run bf16 kernels (respects ONEDNN_MAX_CPU_ISA)
    model: str
    threads: int

    @property
    def native_bf16(self) -> bool:
        return bool(self.bf16_flags) and self.onednn_bf16

    def to_dict(self) -> Dict[str, Any]:
        return dict(asdict(self), native_bf16=self.native_bf16)


def _cpu_flags_and_model() -> Tuple[set, str]:
    flags: set = set()
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "flags" and not flags:
                    flags = set(value.split())
                elif key == "model name" and not model:
                    model = value.strip()
    except OSError:  # not Linux: no flags known, so no native bf16 is assumed
        pass
    return flags, model


def usable_cores() -> int:
    """CPU cores this process may run on (affinity, cgroup-restricted containers too)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


@lru_cache(maxsize=1)
def cpu_info() -> CPUInfo:
    import torch

    flags, model = _cpu_flags_and_model()
    try:
        onednn = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - torch without oneDNN
        onednn = False
    return CPUInfo(
        capability=str(torch.backends.cpu.get_cpu_capability()),
        bf16_flags=tuple(f for f in NATIVE_BF16_FLAGS if f in flags),
        onednn_bf16=onednn,
        model=model,
        threads=usable_cores(),
    )


def cpu_dtype_choice(info: CPUInfo) -> Tuple[str, str]:
    """``(dtype name, reason)`` that ``"auto"`` means on a CPU described by ``info``."""
    if info.native_bf16:
        return "bfloat16", (f"CPU computes bf16 natively ({', '.join(info.bf16_flags)}; "
                            f"capability {info.capability})")
    if info.bf16_flags:
        return "float32", (f"CPU has {', '.join(info.bf16_flags)} but oneDNN may not use it "
                           "(ONEDNN_MAX_CPU_ISA?): bf16 would run in slow kernels")
    return "float32", f"no native bf16 on this CPU (capability {info.capability}): bf16 would run in slow kernels"


def resolve_dtype_name(dtype: Any = "auto", device: str = "cpu",
                       info: Optional[CPUInfo] = None) -> Tuple[str, str]:
    """``(dtype name, reason)`` for a configured ``dtype`` on ``device``.

    ``info`` defaults to this machine's :func:`cpu_info` (tests pass others)."""
    if dtype not in (None, "", "auto"):
        name = DTYPE_NAMES.get(str(dtype).replace("torch.", "").lower())
        if name is None:
            raise ValueError(f"Unknown dtype {dtype!r}; use auto or one of {', '.join(DTYPE_NAMES)}")
        return name, "set in the config"
    if str(device).startswith("cuda"):
        import torch

        if torch.cuda.is_bf16_supported():
            return "bfloat16", "CUDA device supports bf16"
        return "float16", "CUDA device without bf16"
    return cpu_dtype_choice(info or cpu_info())


def resolve_dtype(dtype: Any = "auto", device: str = "cpu", log=None):
    """The ``torch.dtype`` for ``dtype`` on ``device``; an ``"auto"`` choice is logged."""
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    name, reason = resolve_dtype_name(dtype, device)
    if dtype in (None, "", "auto"):
        (log or logger.info)(f"dtype auto -> {name} on {device}: {reason}")
    return getattr(torch, name)


def resolve_threads(n: Any = 0) -> int:
    """Torch CPU threads: ``n`` when > 0, else every usable core (``0``/``"auto"``)."""
    if n in (None, "", "auto") or int(n) <= 0:
        return usable_cores()
    return int(n)


def matmul_probe(seconds: float = 0.5, m: int = 512, k: int = 640, n: int = 2048,
                 threads: Optional[int] = None) -> Dict[str, float]:
    """GFLOP/s of one ``m x k @ k x n`` product (Gemma 3 270M's shapes) in float32 and
    bfloat16, each timed for about ``seconds``. For benchmarks and reports only."""
    import torch

    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    out: Dict[str, float] = {}
    try:
        for dt in (torch.float32, torch.bfloat16):
            a = torch.randn(m, k).to(dt)
            b = torch.randn(k, n).to(dt)
            a @ b
            n_runs, start = 0, time.perf_counter()
            while True:
                a @ b
                n_runs += 1
                spent = time.perf_counter() - start
                if spent >= seconds or (n_runs >= 1 and spent > 4 * seconds):
                    break
            out[str(dt).replace("torch.", "")] = round(2 * m * k * n * n_runs / spent / 1e9, 2)
    finally:
        torch.set_num_threads(old)
    return out
