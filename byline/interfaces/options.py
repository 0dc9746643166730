"""Command-line options shared by several commands (check, eval, scan, serve)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Precision(str, Enum):
    """Precision of the language models (``Detector(precision=...)``)."""

    float32 = "float32"
    bfloat16 = "bfloat16"


PrecisionOption = Annotated[
    Precision,
    typer.Option(
        "--precision",
        help="Language-model precision. bfloat16 is about 1.7x faster on a CPU with AMX matrix units "
        "(CPUs without them may be slower); probabilities move by 0.004 on average.",
    ),
]


AnyLanguageOption = Annotated[
    bool,
    typer.Option(
        "--any-language",
        help="Score texts in every language. By default a text confidently in a language the detector "
        "was not trained on (the shipped one: English) gets the verdict unsupported_language and no "
        "probability; with this option it gets an uncalibrated one.",
    ),
]
