"""Which torch device to compute on, and a clear error for one this machine lacks."""

from __future__ import annotations

import torch

from byline.errors import ModelError


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def default_device() -> str:
    """The best available device: a CUDA GPU, Apple's MPS, or the CPU."""
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


def check_device(device: str | None) -> str:
    """``device``, or the default when None; a :class:`ModelError` for a device torch does not
    know or this machine cannot use (torch itself fails later, with an assertion or a traceback)."""
    if device is None:
        return default_device()
    try:
        kind = torch.device(device)
    except (RuntimeError, ValueError):
        raise ModelError(f"--device {device}: not a torch device (e.g. cpu, cuda, cuda:1, mps)") from None
    if kind.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelError(
                f"--device {device}: no CUDA GPU is available (this PyTorch is a CPU build, or no GPU "
                "or driver was found); leave --device out to use the CPU"
            )
        if kind.index is not None and kind.index >= torch.cuda.device_count():
            raise ModelError(
                f"--device {device}: there are {torch.cuda.device_count()} CUDA devices, numbered from 0"
            )
    elif kind.type == "mps" and not _mps_available():
        raise ModelError(f"--device {device}: Apple's MPS is not available on this machine")
    elif kind.type not in ("cpu", "cuda", "mps"):
        raise ModelError(f"--device {device}: Byline runs on cpu, cuda or mps")
    return device


def cpu_bfloat16_instructions() -> str | None:
    """How this CPU multiplies bfloat16 matrices in hardware: ``"amx"`` (AMX tiles, Intel Xeon
    since Sapphire Rapids), ``"avx512_bf16"`` (e.g. AMD Zen 4, Intel Cooper Lake), or None.

    Without either, PyTorch emulates bfloat16 matrix products in software, many times slower
    than float32 (benchmarks/README.md, "bfloat16").
    """
    for name, check in (("amx", "_is_amx_tile_supported"), ("avx512_bf16", "_is_avx512_bf16_supported")):
        probe = getattr(torch.cpu, check, None)  # private, so looked up with care
        try:
            if probe is not None and probe():
                return name
        except Exception:
            continue
    return None


def slow_precision_warning(precision: str, device: str | None = None) -> str | None:
    """Why ``precision`` would be slow on ``device``, or None: bfloat16 on a CPU without bfloat16
    instructions is emulated, several times slower than float32 (GPUs run it in hardware)."""
    if precision != "bfloat16" or torch.device(check_device(device)).type != "cpu":
        return None
    if cpu_bfloat16_instructions() is not None:
        return None
    return (
        "bfloat16 is emulated on this CPU (it has neither AMX nor AVX-512 BF16 instructions), so the "
        "language models run several times slower than in float32; "
        "use float32 here"
    )


def resolve_precision(precision: str, device: str | None = None) -> str:
    """``precision``, with ``"auto"`` made concrete for ``device``: bfloat16 on a CPU with AMX
    tiles, float32 everywhere else.

    AMX multiplies bfloat16 matrices in hardware, and there the language models run about twice
    as fast as in float32 with token log-probabilities a few hundredths of a nat apart; the shipped
    detector is trained on bfloat16 statistics. A CPU with only AVX-512 BF16 was not measured, one
    without either emulates bfloat16 (slow), and on a GPU float32 is already fast.
    """
    if precision != "auto":
        return precision
    if torch.device(check_device(device)).type == "cpu" and cpu_bfloat16_instructions() == "amx":
        return "bfloat16"
    return "float32"
