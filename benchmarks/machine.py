"""Which machine a benchmark ran on, recorded with its figures.

Speed differs several-fold between machines that all have "2 CPU cores" (benchmarks/README.md
compares some), so a figure means little without the CPU it came from.

    python -m benchmarks.machine
"""

from __future__ import annotations

import os
import platform

from byline.scoring.devices import cpu_bfloat16_instructions


def cpu_model() -> str:
    """The CPU's model name, with its family and model numbers (some virtual machines report only
    "AMD EPYC", which spans five generations)."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
                if not line.strip():
                    break  # the first processor is enough
    except OSError:
        return platform.processor() or platform.machine()
    name = fields.get("model name", platform.machine())
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def describe_machine() -> dict:
    """The CPU, its vector and bfloat16 instructions as PyTorch sees them, and the platform."""
    import torch

    return {
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bfloat16_instructions": cpu_bfloat16_instructions(),
        "platform": platform.platform(),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(describe_machine(), indent=2))
