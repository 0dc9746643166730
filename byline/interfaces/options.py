"""Command-line options shared by several commands (check, eval, scan, serve, index, trace)."""

from __future__ import annotations

import codecs
from enum import Enum
from typing import Annotated, Optional

import typer


class Precision(str, Enum):
    """Precision of the language models (``Detector(precision=...)``)."""

    float32 = "float32"
    bfloat16 = "bfloat16"


PrecisionOption = Annotated[
    Precision,
    typer.Option(
        "--precision",
        help="Language-model precision. bfloat16 is about 1.7x faster on a CPU with AMX matrix units; "
        "a CPU without bfloat16 instructions emulates it, several times slower (Byline warns). "
        "Probabilities move by 0.004 on average.",
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


def _known_encoding(name: str | None) -> str | None:
    # Checked before any file is read: an unknown name would otherwise fail every file alone.
    if name is not None:
        try:
            codecs.lookup(name)
        except LookupError:
            raise typer.BadParameter(f"unknown text encoding {name!r} (e.g. utf-8, cp1252, latin-1, utf-16)") from None
    return name


def encoding_option(files: str = "the files") -> object:
    """``--encoding``: the text encoding of ``files``, checked when the command starts."""
    return typer.Option(
        "--encoding",
        help=f"Text encoding of {files} (default: UTF-8, or as a byte-order mark says).",
        callback=_known_encoding,
    )


EncodingOption = Annotated[Optional[str], encoding_option()]
