"""``byline serve``: the REST API and the web page under uvicorn.

Kept free of FastAPI imports so that the rest of the command line starts fast.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from byline.interfaces.console import _quiet_libraries, fail, require_extra, warn, warn_slow_precision
from byline.interfaces.options import (
    AnyLanguageOption,
    DeviceOption,
    Precision,
    PrecisionOption,
    detector_option,
    fpr_option,
)
from byline.interfaces.server.settings import (
    API_KEY_ENVIRONMENT_VARIABLE,
    DEFAULT_DETECTOR_ALIAS,
    DEFAULT_MAX_TEXT_BYTES,
    SETTINGS_ENVIRONMENT_VARIABLE,
    ServerSettings,
)
from byline.wording import counted

APP_FACTORY = "byline.interfaces.server.app:create_app_from_environment"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cannot_listen(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on ``host:port`` (e.g. the port is taken), or None; tried
    before the models load, which takes a while, rather than after."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"--host {host}: unknown host ({error.strerror})"
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return f"{host}:{port}: the port is in use (another server?); pick another with --port"
            return f"{host}:{port}: cannot listen there ({error.strerror or error})"
    return None


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Worker processes. Each loads the model once and scores on one thread with its own queue; the CPU cores are shared out between them.",
            min=1,
            max=64,
        ),
    ] = 1,
    detector: Annotated[
        list[str] | None,
        detector_option(
            "Detector to load: 'default' or a directory made by `byline train`. Repeat to offer several; requests pick one by name, the first is the default."
        ),
    ] = None,
    fpr: Annotated[float, fpr_option("Default target false-positive rate on human news (0-1).")] = 0.01,
    queue_size: Annotated[
        int,
        typer.Option(
            "--queue-size",
            help="Documents each worker accepts before answering 503 with Retry-After (at least 32, the batch limit).",
            min=32,
        ),
    ] = 64,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size",
            help="Waiting documents scored together in one language-model pass.",
            min=1,
            max=64,
        ),
    ] = 16,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", help="Larger request bodies get 413.", min=1024)
    ] = 8_000_000,
    max_text_bytes: Annotated[
        int,
        typer.Option(
            "--max-text-bytes",
            help="Largest text of one document in UTF-8 bytes, as sent or as extracted from HTML; larger ones get 422. It bounds how long one document holds the scoring queue.",
            min=1000,
        ),
    ] = DEFAULT_MAX_TEXT_BYTES,
    body_timeout: Annotated[
        float,
        typer.Option(
            "--body-timeout", help="Seconds a request body may take to arrive; slower ones get 408.", min=1.0
        ),
    ] = 30.0,
    allow_fetch: Annotated[
        bool,
        typer.Option(
            "--allow-fetch",
            help='Accept {"url": ...} and fetch public http(s) pages (off by default: no server-side fetching).',
        ),
    ] = False,
    trace_index: Annotated[
        Path | None,
        typer.Option(
            "--trace-index",
            help="Source index made by `byline index`, opened read-only in each worker, for POST /v1/trace (without it that endpoint answers 409).",
        ),
    ] = None,
    device: DeviceOption = None,
    precision: PrecisionOption = Precision.auto,
    any_language: AnyLanguageOption = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve the REST API (/v1, spec at /openapi.json, browsable at /docs) and the web page (/)."""
    require_extra("serve")
    if trace_index is not None:
        require_extra("trace")
    _quiet_libraries()  # and a first start says that it is preparing the packaged models

    specs = detector or [DEFAULT_DETECTOR_ALIAS]
    from byline.decision.trained_detector import TrainedDetector
    from byline.errors import BylineError
    from byline.scoring.model_files import PACKAGED_MODELS, prepare_packaged_model

    if trace_index is not None:  # fail before starting workers, which open it again
        from byline.tracing import SourceIndex
        from byline.tracing.encoder import packaged_model_path

        try:
            SourceIndex.open(trace_index).close()
        except BylineError as error:
            fail(f"--trace-index {error}")
        try:
            packaged_model_path()
        except BylineError as error:
            fail(f"--trace-index {trace_index}: {error}")
    from byline.scoring.devices import check_device

    try:
        check_device(device)  # each worker would fail on its own, after startup
    except BylineError as error:
        fail(str(error))
    warn_slow_precision(precision.value, device)
    for spec in specs:  # fail before starting workers; the language models load in each worker
        try:
            trained = TrainedDetector.load(None if spec == DEFAULT_DETECTOR_ALIAS else spec)
            # Convert packaged models here, once: workers converting at the same time would
            # replace each other's files under the cache.
            for name in trained.language_models:
                if name in PACKAGED_MODELS:
                    prepare_packaged_model(PACKAGED_MODELS[name])
        except (BylineError, OSError, ValueError) as error:
            fail(f"--detector {spec}: {error}")
    cores = os.cpu_count() or 1
    try:
        settings = ServerSettings(
            detectors=specs,
            fpr=fpr,
            device=device,
            precision=precision.value,
            any_language=any_language,
            workers=workers,
            queue_documents=queue_size,
            batch_documents=batch_size,
            max_body_bytes=max_body_bytes,
            max_text_bytes=max_text_bytes,
            body_timeout_s=body_timeout,
            allow_fetch=allow_fetch,
            trace_index=str(trace_index) if trace_index is not None else None,
            torch_threads=max(1, cores // workers) if workers > 1 else None,
        )
    except ValueError as error:
        fail(str(error))
    if not _is_loopback(host) and not settings.api_key:
        warn(f"listening on {host} without an API key; set {API_KEY_ENVIRONMENT_VARIABLE} to require one")
    if problem := _cannot_listen(host, port):  # uvicorn would find out only after loading the models
        fail(problem)
    os.environ[SETTINGS_ENVIRONMENT_VARIABLE] = settings.to_environment()
    import uvicorn

    typer.echo(
        f"byline: serving on http://{host}:{port}/ ({counted(workers, 'worker')}; the model loads in each)",
        err=True,
    )
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        # Connections beyond this get uvicorn's own 503; the scoring queue bounds work well before.
        limit_concurrency=1000,
        timeout_graceful_shutdown=30,
    )
