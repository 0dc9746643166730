"""Byline's REST API and web page (``byline serve``).

from byline.interfaces.server import create_app, ServerSettings
app = create_app(settings=ServerSettings(queue_documents=32))
"""

from __future__ import annotations

from typing import Any

from byline.interfaces.server.settings import ServerSettings


def __getattr__(name: str) -> Any:
    # create_app needs FastAPI (the serve extra); `byline serve`'s command module, imported by
    # every `byline` run, lives in this package and must import without it.
    if name == "create_app":
        from byline.interfaces.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ServerSettings", "create_app"]
