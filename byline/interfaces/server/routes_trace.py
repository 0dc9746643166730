"""``POST /v1/trace``: the server form of ``byline trace ARTICLE --index INDEX --json``.

The source index is opened once per worker at start-up (``byline serve
--trace-index INDEX``). The document is parsed on a parsing thread; embedding
its sentences and the verdict's language model then run in one job on the
scoring thread, so tracing shares the bounded queue (and its 503
back-pressure) with detection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from byline.errors import InputError
from byline.input import Article
from byline.interfaces.server.errors import ApiError, field_error
from byline.interfaces.server.routes_detect import ERROR_RESPONSES, document_input
from byline.interfaces.server.schemas import ErrorResponse, TraceRequest, TraceResponse, result_document
from byline.interfaces.server.state import ServerState, server_state

router = APIRouter(prefix="/v1", tags=["tracing"])

NO_TRACE_INDEX = (
    "this server has no source index to trace against; start it with `byline serve --trace-index INDEX` "
    "(build an index with `byline index SOURCES --out INDEX`)"
)

TRACE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    409: {
        "model": ErrorResponse,
        "description": "The server was started without `--trace-index` (error `no_trace_index`).",
    },
}


def _trace(state: ServerState, article: Article, body: TraceRequest, detector: str | None) -> dict[str, Any]:
    """Runs on the scoring thread: trace, and (unless ``detector`` is None) score."""
    result = state.trace_index.trace(article, limit=body.limit)  # type: ignore[union-attr]
    document_out = result.to_dict()
    # clients see the index's name, not where it lives on the server
    document_out["index"]["path"] = Path(document_out["index"]["path"]).name
    if detector is not None:
        verdict = state.detectors[detector].detect_many([article], fpr=body.fpr, batch_size=1)[0]
        document_out["verdict"] = result_document(verdict)
    return document_out


@router.post(
    "/trace",
    response_model=TraceResponse,
    responses=TRACE_RESPONSES,
    summary="Trace an article to its most likely source",
    description="Send exactly one of `text`, `html` (or `url`, if the server fetches pages). Finds the "
    "articles of the server's source index (`byline serve --trace-index INDEX`) that the text was most "
    "likely made from, best first, aligns the text sentence by sentence with the best one (supported "
    "sentences, new numbers and names), and gives Byline's verdict on the text: the same document as "
    "`byline trace --json`. Without a source index the server answers 409 `no_trace_index`.",
)
async def trace(body: TraceRequest, request: Request) -> dict:
    state = server_state(request)
    if state.trace_index is None:
        raise ApiError(409, "no_trace_index", NO_TRACE_INDEX)
    # an unknown detector is a bad request even when no verdict is asked for
    detector = state.resolve_detector(body.detector)
    document = await document_input(state, body, "", "<html>" if body.kind == "html" else "<text>")
    article = await state.parse(document)  # on a parsing thread, not the scoring thread
    try:
        return await state.run(lambda: _trace(state, article, body, detector if body.verdict else None))
    except InputError as error:
        raise field_error(document.field, error.problem) from None
