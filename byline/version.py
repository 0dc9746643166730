"""Byline's version, in a module of its own: the layers below the package's facade
(``byline/__init__.py``, which loads the detector) record it without importing that facade."""

__version__ = "0.1.0"
