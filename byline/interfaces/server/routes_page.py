"""The web page at ``/`` and the API browser at ``/docs``, every asset served from here.

Nothing is loaded from a CDN: the page's own HTML/CSS/JS ship in ``static/``
and Swagger UI's files come from the ``swagger-ui-py`` package, so both work
without a network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

#: The page talks only to this server; no inline script, no third-party origin.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


def _swagger_ui_dir() -> Path | None:
    try:
        import swagger_ui  # the swagger-ui-py package, which ships Swagger UI's built files
    except ImportError:
        return None
    directory = Path(swagger_ui.__file__).parent / "static"
    return directory if (directory / "swagger-ui-bundle.js").is_file() else None


def mount_assets(app: FastAPI) -> None:
    """Serve ``/static`` and, when Swagger UI's files are installed, ``/docs``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    swagger = _swagger_ui_dir()
    if swagger is None:
        return
    app.mount("/docs/assets", StaticFiles(directory=swagger), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
