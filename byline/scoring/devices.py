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
            raise ModelError(f"--device {device}: there are {torch.cuda.device_count()} CUDA devices, numbered from 0")
    elif kind.type == "mps" and not _mps_available():
        raise ModelError(f"--device {device}: Apple's MPS is not available on this machine")
    elif kind.type not in ("cpu", "cuda", "mps"):
        raise ModelError(f"--device {device}: Byline runs on cpu, cuda or mps")
    return device
