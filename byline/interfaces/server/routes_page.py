"""The web page at ``/`` and the API browser at ``/docs``, every asset served from here.

Nothing is loaded from a CDN: the page's own HTML/CSS/JS ship in ``static/``
and Swagger UI's files come from the ``swagger-ui-py`` package, so both work
without a network.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from byline.interfaces.server.security_headers import CONTENT_SECURITY_POLICY

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def page() -> FileResponse:
    # The security headers (CSP, nosniff) come from the SecurityHeaders middleware.
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


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
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = _with_inline_scripts(
            CONTENT_SECURITY_POLICY, bytes(page.body)
        )
        return page


def _with_inline_scripts(policy: str, html: bytes) -> str:
    """``policy`` that also allows exactly the inline scripts of ``html`` (Swagger UI starts from
    one), by their SHA-256, and nothing else inline."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in re.findall(rb"<script>(.*?)</script>", html, flags=re.DOTALL)
    ]
    return f"{policy}; script-src 'self' {' '.join(hashes)}".rstrip()
