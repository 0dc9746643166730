"""``POST /v1/detect`` and ``POST /v1/detect/batch``."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from byline.errors import InputError
from byline.interfaces.server.errors import ApiError, field_error
from byline.interfaces.server.fetching import fetch_public_page
from byline.interfaces.server.schemas import (
    MAX_BATCH_DOCUMENTS,
    BatchRequest,
    BatchResponse,
    DetectionResponse,
    DetectRequest,
    DocumentFields,
    ErrorResponse,
    FieldProblem,
    result_document,
)
from byline.interfaces.server.scoring_pool import DocumentInput, ScoringFailure
from byline.interfaces.server.state import ServerState, server_state

#: Error answers every scoring route can give, for the OpenAPI spec.
ERROR_RESPONSES = {
    401: {"model": ErrorResponse, "description": "An API key is configured and the request lacks it."},
    408: {
        "model": ErrorResponse,
        "description": "The request body did not arrive within the server's time limit.",
    },
    413: {"model": ErrorResponse, "description": "The request body is over the server's size limit."},
    422: {"model": ErrorResponse, "description": "The body is invalid; the message names the field."},
    503: {
        "model": ErrorResponse,
        "description": "The scoring queue is full; try again after `Retry-After` seconds.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
        },
    },
}

router = APIRouter(prefix="/v1", tags=["detection"])

FETCH_REFUSED = (
    "this server does not fetch pages (it was not started with --allow-fetch); "
    "send the page's HTML as `html` instead"
)


async def document_input(
    state: ServerState, fields: DocumentFields, prefix: str, default_source: str
) -> DocumentInput:
    """The document to score (or trace); a page to fetch is fetched here (only with --allow-fetch).

    ``prefix`` goes before the field name in errors (``documents[2].``)."""
    kind = fields.kind
    field_name = f"{prefix}{kind}"
    if kind == "url":
        url = fields.url
        if not state.settings.allow_fetch:
            raise field_error(field_name, FETCH_REFUSED, "fetch_refused")
        source = fields.source or url
        try:
            page = await run_in_threadpool(
                fetch_public_page,
                url,
                timeout=state.settings.fetch_timeout_s,
                max_bytes=state.settings.max_html_bytes,
            )
        except InputError as error:
            raise field_error(field_name, error.problem) from None
        return DocumentInput("html_bytes", page, source, field_name)
    content = fields.text if kind == "text" else fields.html
    return DocumentInput(kind, content, fields.source or default_source, field_name)  # type: ignore[arg-type]


@router.post(
    "/detect",
    response_model=DetectionResponse,
    responses=ERROR_RESPONSES,
    summary="Score one article",
    description="Send exactly one of `text`, `html` (or `url`, if the server fetches pages). Returns the "
    "same document as `byline check --json`. Texts under the detector's minimum length get the verdict "
    "`too_short`, texts that repeat themselves or are all numbers `not_prose`, and texts confidently in a "
    "language the detector was not trained on get "
    "`unsupported_language`, not an error; unusable input (empty, whitespace only, HTML without article text) gets 422.",
)
async def detect(body: DetectRequest, request: Request) -> dict:
    state = server_state(request)
    detector = state.resolve_detector(body.detector)
    document = await document_input(state, body, "", "<html>" if body.kind == "html" else "<text>")
    outcome = (await state.score(detector, body.fpr, [document]))[0]
    if isinstance(outcome, InputError):
        raise field_error(document.field, outcome.problem)
    if isinstance(outcome, ScoringFailure):
        raise ApiError(500, "internal_error", outcome.message)
    return result_document(outcome)


@router.post(
    "/detect/batch",
    response_model=BatchResponse,
    responses=ERROR_RESPONSES,
    summary=f"Score up to {MAX_BATCH_DOCUMENTS} articles",
    description=f"Up to {MAX_BATCH_DOCUMENTS} documents, scored with one detector and false-positive rate. "
    "Every document gets one item, in the order sent: its `result`, or an `error` naming "
    "`documents[i].<field>` when that document is unusable. A malformed body (a document with no text, "
    "an unknown field) gets 422 for the whole request.",
)
async def detect_batch(body: BatchRequest, request: Request) -> dict:
    state = server_state(request)
    detector = state.resolve_detector(body.detector)
    items: list[dict | None] = [None] * len(body.documents)

    async def prepare(index: int, fields: DocumentFields) -> DocumentInput | ApiError:
        try:
            return await document_input(state, fields, f"documents[{index}].", f"<text #{index}>")
        except ApiError as error:
            return error

    prepared = await asyncio.gather(*(prepare(i, fields) for i, fields in enumerate(body.documents)))
    documents: list[DocumentInput] = []
    positions: list[int] = []
    for index, document in enumerate(prepared):
        if isinstance(document, ApiError):
            items[index] = {"index": index, "result": None, "error": document.body().model_dump()}
        else:
            documents.append(document)
            positions.append(index)
    outcomes = await state.score(detector, body.fpr, documents) if documents else []
    for index, document, outcome in zip(positions, documents, outcomes):
        if isinstance(outcome, InputError):
            error = {
                "error": "invalid_input",
                "message": f"{document.field}: {outcome.problem}",
                "fields": [FieldProblem(field=document.field, message=outcome.problem).model_dump()],
            }
            items[index] = {"index": index, "result": None, "error": error}
        elif isinstance(outcome, ScoringFailure):
            error = {"error": "internal_error", "message": outcome.message, "fields": []}
            items[index] = {"index": index, "result": None, "error": error}
        else:
            items[index] = {"index": index, "result": result_document(outcome), "error": None}
    return {"results": items}
