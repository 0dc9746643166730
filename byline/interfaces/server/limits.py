"""API-key authentication (401) and the bounds on a request body: its size (413) and the time it may take (408)."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from byline.interfaces.server.errors import ApiError, error_response
from byline.interfaces.server.schemas import FieldProblem
from byline.interfaces.server.settings import API_KEY_ENVIRONMENT_VARIABLE


class RequestGuard:
    """ASGI middleware in front of the app: the API key (401), then the body's size (413) and
    the time it takes to arrive (408), in that order.

    The key is checked on the headers alone, so a client without it never gets a byte of its
    body read. A declared ``Content-Length`` over the limit is refused before anything is read;
    a body sent without one (chunked) is read up to the limit and refused as soon as it passes
    it. The whole body must arrive within ``body_timeout_s`` (a client that declares more than
    it sends is answered 408 and the connection closed), so no request can make the server hold
    more than ``max_bytes`` of it or wait for it without end. The app then gets the body as read.
    """

    def __init__(
        self,
        app,
        *,
        max_bytes: int,
        body_timeout_s: float,
        api_key: str | None,
        protected_prefix: str = "/v1",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s
        self.api_key = api_key
        self.protected_prefix = protected_prefix

    def _protected(self, path: str) -> bool:
        return path == self.protected_prefix or path.startswith(self.protected_prefix + "/")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if self.api_key and self._protected(scope.get("path", "")):
            problem = api_key_problem(headers.get(b"authorization", b"").decode("latin-1"), self.api_key)
            if problem:
                await _refuse(scope, receive, send, unauthorized(problem))
                return
        try:
            declared = int(headers.get(b"content-length", b"-1"))
        except ValueError:
            declared = -1
        if declared > self.max_bytes:
            await _refuse(scope, receive, send, self._too_large(declared))
            return
        # Read the body here (FastAPI would buffer it whole anyway), counting as it comes.
        chunks: list[bytes] = []
        received = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_s
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                await _refuse(scope, receive, send, self._too_slow(received))
                return
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await _refuse(scope, receive, send, self._too_large(None))
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

    def _too_large(self, size: int | None) -> ApiError:
        stated = f"{size:,} bytes" if size is not None else "more than that"
        problem = f"larger than {self.max_bytes:,} bytes"
        return ApiError(
            413,
            "payload_too_large",
            f"body: the request body is too large ({stated}; the limit is {self.max_bytes:,} bytes)",
            [FieldProblem(field="body", message=problem)],
        )

    def _too_slow(self, received: int) -> ApiError:
        problem = (
            f"the request body did not arrive within {self.body_timeout_s:g} s ({received:,} bytes came)"
        )
        return ApiError(
            408, "request_timeout", f"body: {problem}", [FieldProblem(field="body", message=problem)]
        )


async def _refuse(scope, receive, send, error: ApiError) -> None:
    """Answer ``error`` and close the connection (the rest of the body is never read)."""
    response = error_response(
        error.status,
        error.code,
        error.message,
        error.fields,
        {**(error.headers or {}), "Connection": "close"},
    )
    await response(scope, receive, send)


_bearer = HTTPBearer(
    auto_error=False,
    description=f"Needed only when the server runs with {API_KEY_ENVIRONMENT_VARIABLE} set: "
    "`Authorization: Bearer <key>`.",
)


def api_key_problem(authorization: str, expected: str) -> str | None:
    """What is wrong with an ``Authorization`` header for the API key ``expected`` (None: nothing)."""
    scheme, _, given = authorization.partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""
    if given and hmac.compare_digest(given.encode(), expected.encode()):
        return None
    return ("missing" if not given else "wrong") + " API key; send the header `Authorization: Bearer <key>`"


def unauthorized(problem: str) -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        f"authorization: {problem}",
        [FieldProblem(field="authorization", message=problem)],
        headers={"WWW-Authenticate": "Bearer"},
    )


async def require_api_key(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
) -> None:
    """Dependency of every /v1 route: declares the bearer scheme in the spec, and checks the key
    again (:class:`RequestGuard` has already refused requests without it, before their body)."""
    expected = request.app.state.byline.settings.api_key
    if not expected:
        return
    problem = api_key_problem(request.headers.get("authorization", ""), expected)
    if problem:
        raise unauthorized(problem)
