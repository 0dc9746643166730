"""``GET /healthz`` (no key needed) and ``GET /v1/info``."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request

from byline import __version__
from byline.interfaces.server.routes_detect import ERROR_RESPONSES
from byline.interfaces.server.schemas import (
    MAX_BATCH_DOCUMENTS,
    MAX_FPR,
    MAX_TRACE_MATCHES,
    MIN_FPR,
    HealthResponse,
    InfoResponse,
)
from byline.interfaces.server.state import server_state

public_router = APIRouter(tags=["service"])
router = APIRouter(prefix="/v1", tags=["service"])


@public_router.get("/healthz", response_model=HealthResponse, summary="Liveness and queue depth")
async def healthz(request: Request) -> dict:
    state = server_state(request)
    return {
        "status": "ok",
        "version": __version__,
        "queued_documents": state.pool.pending_documents,
        "queue_capacity": state.pool.capacity,
    }


@router.get(
    "/info",
    response_model=InfoResponse,
    responses={401: ERROR_RESPONSES[401]},
    summary="Version, detectors, models, thresholds and limits",
)
async def info(request: Request) -> dict:
    state = server_state(request)
    settings = state.settings
    return {
        "version": __version__,
        "default_detector": state.default_detector,
        "detectors": state.infos,
        "limits": {
            "max_body_bytes": settings.max_body_bytes,
            "body_timeout_s": settings.body_timeout_s,
            "max_text_bytes": settings.max_text_bytes,
            "max_html_bytes": settings.max_html_bytes,
            "max_batch_documents": MAX_BATCH_DOCUMENTS,
            "queue_documents_per_worker": settings.queue_documents,
            "batch_documents": settings.batch_documents,
            "slice_seconds": settings.slice_seconds,
            "fpr_range": [MIN_FPR, MAX_FPR],
            "max_trace_matches": MAX_TRACE_MATCHES,
        },
        "server": {
            "workers": settings.workers,
            "scoring_threads_per_worker": 1,
            "torch_threads_per_worker": settings.torch_threads,
            "pid": os.getpid(),
            "allow_fetch": settings.allow_fetch,
            "auth_required": bool(settings.api_key),
            # POST /v1/trace: the source index's size and encoder, or null without --trace-index.
            "trace_index": state.trace_index_info,
        },
    }
