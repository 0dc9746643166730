"""Cluster scale: ``byline scan --engine ray`` and its Python entry point.

    from byline.interfaces.cluster import scan_on_ray

Ray is optional (``pip install "byline[cluster]"``); it is imported only
when a scan runs.
"""

from __future__ import annotations

from typing import Any


def scan_on_ray(*args: Any, **kwargs: Any):
    """See :func:`byline.interfaces.cluster.ray_engine.scan_on_ray`."""
    from byline.interfaces.cluster.ray_engine import scan_on_ray as run

    return run(*args, **kwargs)


__all__ = ["scan_on_ray"]
