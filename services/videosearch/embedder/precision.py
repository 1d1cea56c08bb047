"""What ``--dtype auto`` picks, decided from what the hardware can do and never from a timing:
a start-up timing on a busy machine flips between runs (one start measured bfloat16 at 1.03x
float32 and kept float32 where the bench measured 2.68x), and a flip changes every embedding.

* CUDA: float16 (every CUDA GPU the project supports has fast float16 matmul).
* CPU with AMX (``amx_bf16``) or native bfloat16 dot products (``avx512_bf16`` on x86,
  ``bf16`` on Arm): bfloat16; oneDNN runs its matmuls natively (46 images/s against 11 in
  float32 at 8 callers on an AMX CPU). Cosines to the float32 embeddings stay above 0.999.
* Any other CPU: float32 (bfloat16 there is emulated and slower).
"""

from __future__ import annotations

from pathlib import Path

import torch

# CPU flags (Linux /proc/cpuinfo names) that mean bfloat16 matmul runs natively, best first.
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16", "bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The flags the kernel reports for the first CPU (x86 'flags', Arm 'Features'); empty off Linux."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def native_bf16_flag(flags: frozenset[str] | None = None) -> str | None:
    """The CPU flag that makes bfloat16 matmul native here, or None."""
    flags = cpu_flags() if flags is None else flags
    for flag in NATIVE_BF16_FLAGS:
        if flag in flags:
            return flag
    return None


def auto_dtype(device: torch.device, flags: frozenset[str] | None = None) -> tuple[torch.dtype, str]:
    """(dtype, reason) for ``--dtype auto`` on ``device``."""
    if device.type == "cuda":
        return torch.float16, "auto: CUDA device, float16"
    flag = native_bf16_flag(flags)
    if flag is not None:
        return torch.bfloat16, f"auto: CPU has native bfloat16 matmul ({flag})"
    capability = torch.backends.cpu.get_cpu_capability()
    return (
        torch.float32,
        f"auto: CPU without native bfloat16 matmul (no amx_bf16/avx512_bf16/bf16 flag; torch sees {capability})",
    )
