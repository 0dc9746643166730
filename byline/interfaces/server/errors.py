"""Errors the API answers with, all in the shape of :class:`~.schemas.ErrorResponse`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from byline.interfaces.server.schemas import ErrorResponse, FieldProblem

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    422: "invalid_request",
    500: "internal_error",
    503: "queue_full",
}


class ApiError(Exception):
    """An error answer: status, stable code, one-line message, the fields at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.headers = headers

    def body(self) -> ErrorResponse:
        return ErrorResponse(error=self.code, message=self.message, fields=self.fields)


def field_error(field: str, problem: str, code: str = "invalid_input") -> ApiError:
    """422 for one field: ``text: the text is empty``."""
    return ApiError(422, code, f"{field}: {problem}", [FieldProblem(field=field, message=problem)])


def error_response(
    status: int,
    code: str,
    message: str,
    fields: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=code, message=message, fields=fields or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "documents", 2, "text")`` -> ``documents[2].text``."""
    parts = list(location)
    if parts and parts[0] == "body":
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"


def _problem(error: dict[str, Any]) -> FieldProblem:
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        context = error.get("ctx") or {}
        message = f"the body is not valid JSON ({context.get('error', message)})"
        return FieldProblem(field="body", message=message)
    return FieldProblem(field=field_path(error.get("loc", ())), message=message)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_problem(error) for error in exc.errors()]
    message = "; ".join(f"{p.field}: {p.message}" for p in problems) or "the request is not valid"
    return error_response(422, "invalid_request", message, problems)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (e.g. not UTF-8); an invalid body is a 422 here.
        cause = exc.__cause__
        problem = "the body could not be read as JSON" + (f" ({cause})" if cause else "")
        return error_response(
            422, "invalid_request", f"body: {problem}", [FieldProblem(field="body", message=problem)]
        )
    code = _CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(
        500, "internal_error", "an unexpected error occurred on the server; it has been logged"
    )


def install_error_handlers(app) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
