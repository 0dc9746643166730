"""Errors Byline raises on purpose. Every layer may import this module."""

from __future__ import annotations


class BylineError(Exception):
    """Base class for errors meant to be shown to a user as one clear line."""


class InputError(BylineError, ValueError):
    """An article could not be read or is not usable text.

    The message always names the input (a path, ``<stdin>``, a URL or ``<text>``)
    and the problem, so that a batch can put it in an error row as it is.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class ModelError(BylineError, RuntimeError):
    """A scoring model or a trained detector could not be found or loaded."""


class BylineWarning(UserWarning):
    """Something works but not as well as it could (e.g. uncalibrated probabilities, a slow
    precision); the command line shows these as `byline: warning: ...` lines."""
