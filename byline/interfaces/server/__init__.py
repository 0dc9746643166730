"""Byline's REST API and web page (``byline serve``).

    from byline.interfaces.server import create_app, ServerSettings
    app = create_app(settings=ServerSettings(queue_documents=32))
"""

from byline.interfaces.server.app import create_app
from byline.interfaces.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
