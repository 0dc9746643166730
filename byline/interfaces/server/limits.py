"""Request body size limit (413) and API-key authentication (401)."""

from __future__ import annotations

import hmac
import json

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from byline.interfaces.server.errors import ApiError
from byline.interfaces.server.schemas import FieldProblem
from byline.interfaces.server.settings import API_KEY_ENVIRONMENT_VARIABLE


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413.

    A declared ``Content-Length`` over the limit is refused before anything is
    read; a body sent without one (chunked) is read up to the limit and
    refused as soon as it passes it. The app then gets the body as read, so no
    request can make the server hold more than ``max_bytes`` of it.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._refuse(send, declared)
                    return
        # Read the body here (FastAPI would buffer it whole anyway), counting as it comes.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(send, None)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send, size: int | None) -> None:
        stated = f"{size:,} bytes" if size is not None else "more than that"
        body = json.dumps(
            {
                "error": "payload_too_large",
                "message": f"body: the request body is too large ({stated}; the limit is {self.max_bytes:,} bytes)",
                "fields": [{"field": "body", "message": f"larger than {self.max_bytes:,} bytes"}],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_bearer = HTTPBearer(
    auto_error=False,
    description=f"Needed only when the server runs with {API_KEY_ENVIRONMENT_VARIABLE} set: "
    "`Authorization: Bearer <key>`.",
)


async def require_api_key(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)  # noqa: B008
) -> None:
    """Dependency of every /v1 route: with an API key configured, a matching bearer token is required."""
    expected = request.app.state.byline.settings.api_key
    if not expected:
        return
    given = credentials.credentials if credentials else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        problem = ("missing" if not given else "wrong") + " API key; send the header `Authorization: Bearer <key>`"
        raise ApiError(
            401,
            "unauthorized",
            f"authorization: {problem}",
            [FieldProblem(field="authorization", message=problem)],
            headers={"WWW-Authenticate": "Bearer"},
        )
