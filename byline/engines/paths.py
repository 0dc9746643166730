"""Checks on the paths commands write to, made before any long work starts."""

from __future__ import annotations

import tempfile
from pathlib import Path


def cannot_write(path: str | Path, *, directory: bool = False) -> str | None:
    """Why ``path`` (a file, or a ``directory`` to hold files) could not be created and written,
    or None. Nothing is left behind: the check writes a temporary file in the nearest folder
    that exists."""
    path = Path(path)
    if directory and path.exists() and not path.is_dir():
        return "exists and is not a directory"
    existing = path if directory else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"cannot write in {existing} ({error.strerror or error})"
    return None
