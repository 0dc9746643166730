"""Command-line options shared by several commands (check, eval, scan, serve, train, index, trace).

Each option is declared once here; a command whose option means something narrower passes its
own help text to the option's function (e.g. ``device_option("the sentence encoder", "cpu")``).
"""

from __future__ import annotations

import codecs
from enum import Enum
from typing import Annotated, Optional

import typer


class Precision(str, Enum):
    """Precision of the language models (``Detector(precision=...)``)."""

    auto = "auto"
    float32 = "float32"
    bfloat16 = "bfloat16"


PRECISION_HELP = (
    "Precision of the language models: auto (bfloat16 on a CPU with bfloat16 matrix units, Intel AMX, "
    "where it is about twice as fast; float32 elsewhere), float32, or bfloat16 (a CPU without bfloat16 "
    "instructions emulates it, more slowly; Byline warns). Probabilities differ slightly between the two."
)


def precision_option(name: str = "--precision", help: str = PRECISION_HELP) -> object:
    """``--precision``: the language models' precision (:class:`Precision`)."""
    return typer.Option(name, help=help)


PrecisionOption = Annotated[Precision, precision_option()]


def fpr_option(help: str = "Target false-positive rate on human news for the verdict (0-1).") -> object:
    """``--fpr``: the false-positive rate the verdict's threshold is set for."""
    return typer.Option("--fpr", help=help, min=1e-4, max=0.5)


FprOption = Annotated[float, fpr_option()]


def detector_option(
    help: str = "Directory of a detector made by `byline train` (default: the shipped one).",
) -> object:
    """``--detector``: which trained detector gives the verdict."""
    return typer.Option("--detector", help=help)


DetectorOption = Annotated[Optional[str], detector_option()]


def device_option(what: str = "the language models", default: str = "best available") -> object:
    """``--device``: the torch device that runs ``what``."""
    return typer.Option(
        "--device", help=f"torch device for {what}: cpu, cuda, cuda:1, mps (default: {default})."
    )


DeviceOption = Annotated[Optional[str], device_option()]


def model_option(help: str) -> object:
    """``--model``: the scoring language model(s), by packaged name, directory, .gguf file or Hugging Face id."""
    return typer.Option("--model", help=help)


ModelOption = Annotated[
    Optional[str],
    model_option(
        "Language model to score with instead of the detector's: packaged name, local directory, "
        ".gguf file or Hugging Face id."
    ),
]


def json_option(
    help: str = "Print one JSON document per input, one per line (JSON Lines), instead of a report.",
) -> object:
    """``--json``: machine-readable output instead of a report."""
    return typer.Option("--json", help=help)


JsonOption = Annotated[bool, json_option()]


AnyLanguageOption = Annotated[
    bool,
    typer.Option(
        "--any-language",
        help="Score texts in every language. By default a text confidently in a language the detector "
        "was not trained on (the shipped one: English) gets the verdict unsupported_language and no "
        "probability; with this option it gets an uncalibrated one.",
    ),
]


def _known_encoding(name: str | None) -> str | None:
    # Checked before any file is read: an unknown name would otherwise fail every file alone.
    if name is not None:
        try:
            codecs.lookup(name)
        except LookupError:
            raise typer.BadParameter(
                f"unknown text encoding {name!r} (e.g. utf-8, cp1252, latin-1, utf-16)"
            ) from None
    return name


def encoding_option(files: str = "the files") -> object:
    """``--encoding``: the text encoding of ``files``, checked when the command starts."""
    return typer.Option(
        "--encoding",
        help=f"Text encoding of {files} (default: UTF-8, or as a byte-order mark says).",
        callback=_known_encoding,
    )


EncodingOption = Annotated[Optional[str], encoding_option()]
