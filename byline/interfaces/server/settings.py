"""What a running server is allowed to do: limits, detectors, fetching, authentication.

The settings travel to uvicorn worker processes as JSON in an environment
variable (``byline serve --workers N`` starts N processes, each of which builds
its own app). The API key never travels that way: every process reads it from
``BYLINE_API_KEY`` itself, so it never appears in a settings dump or a log.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields

from byline.input.reading import MAX_ARTICLE_BYTES
from byline.scoring.statistics_cache import check_precision

#: Environment variable that carries the settings to worker processes.
SETTINGS_ENVIRONMENT_VARIABLE = "BYLINE_SERVER_SETTINGS"
#: Environment variable holding the API key; when set, every /v1 request needs it.
API_KEY_ENVIRONMENT_VARIABLE = "BYLINE_API_KEY"

#: Documents allowed in one ``POST /v1/detect/batch`` request.
MAX_BATCH_DOCUMENTS = 32

#: Most candidate sources one ``POST /v1/trace`` request may ask for.
MAX_TRACE_MATCHES = 20

#: Default limit on one document's text (UTF-8 bytes, as sent or as extracted from HTML): a long
#: news article is well under it, and it bounds the time one document holds the scoring thread.
DEFAULT_MAX_TEXT_BYTES = 100_000

#: Name under which the first detector given at start-up can always be asked for.
DEFAULT_DETECTOR_ALIAS = "default"


def _api_key_from_environment() -> str | None:
    return os.environ.get(API_KEY_ENVIRONMENT_VARIABLE) or None


@dataclass
class ServerSettings:
    """Limits and permissions of one server (the same in every worker process).

    ``detectors``: detectors loaded at start-up (``"default"`` or directories
    made by ``byline train``); a request may only name one of these, so a
    client can never make the server load a path of its choosing.
    ``queue_documents``: documents accepted but not yet scored, per worker
    process; beyond it the server answers 503 with ``Retry-After``.
    ``batch_documents``: documents scored together in one pass of the
    language model (waiting requests with the same detector and ``fpr`` are
    batched, which is several times faster on a CPU than one by one).
    ``slice_seconds``: the scoring thread takes at once no more documents than it
    scores in about this many seconds at its measured rate (at least one, at most
    ``batch_documents``), so that a request never waits long behind another's batch.
    ``max_body_bytes``: larger request bodies get 413.
    ``body_timeout_s``: a request body must arrive within this many seconds (408 otherwise).
    ``max_text_bytes``: a document whose text (UTF-8, as sent or as extracted from
    HTML) is larger is refused as unusable input (422 naming its field).
    ``max_html_bytes``: likewise for an HTML page as sent or fetched, before extraction.
    ``allow_fetch``: accept ``{"url": ...}`` and fetch public http(s) pages.
    ``torch_threads``: CPU threads per worker process for the language model
    (``None``: torch's default).
    ``trace_index``: a source index made by ``byline index``, opened read-only
    in every worker at start-up for ``POST /v1/trace`` (``None``: no tracing).
    ``any_language``: score texts in languages the detectors were not trained on
    (uncalibrated) instead of answering ``unsupported_language``.
    """

    detectors: list[str] = field(default_factory=lambda: [DEFAULT_DETECTOR_ALIAS])
    fpr: float = 0.01
    device: str | None = None
    precision: str = "auto"
    any_language: bool = False
    workers: int = 1
    queue_documents: int = 64
    batch_documents: int = 16
    slice_seconds: float = 1.0
    max_body_bytes: int = 8_000_000
    body_timeout_s: float = 30.0
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES
    max_html_bytes: int = MAX_ARTICLE_BYTES
    allow_fetch: bool = False
    fetch_timeout_s: float = 20.0
    torch_threads: int | None = None
    trace_index: str | None = None
    api_key: str | None = field(default_factory=_api_key_from_environment, repr=False)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse settings that could not work, with a message naming the setting."""
        if not self.detectors:
            raise ValueError("detectors: at least one detector is needed")
        if not 0.0 < self.fpr < 1.0:
            raise ValueError(f"fpr must be between 0 and 1 (exclusive), got {self.fpr}")
        check_precision(self.precision)
        for name in (
            "workers",
            "queue_documents",
            "batch_documents",
            "max_body_bytes",
            "max_text_bytes",
            "max_html_bytes",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("body_timeout_s", "slice_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0, got {getattr(self, name)}")
        if self.queue_documents < MAX_BATCH_DOCUMENTS:
            # Otherwise a full-size batch could never be accepted.
            raise ValueError(
                f"queue_documents ({self.queue_documents}) must be at least {MAX_BATCH_DOCUMENTS}, "
                "the most documents one batch request may hold"
            )

    def to_environment(self) -> str:
        """JSON for :data:`SETTINGS_ENVIRONMENT_VARIABLE`, without the API key."""
        values = asdict(self)
        values.pop("api_key")
        return json.dumps(values)

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> ServerSettings:
        environ = os.environ if environ is None else environ
        raw = environ.get(SETTINGS_ENVIRONMENT_VARIABLE)
        if not raw:
            return cls()
        values = json.loads(raw)
        known = {f.name for f in fields(cls)} - {"api_key"}
        return cls(**{k: v for k, v in values.items() if k in known})
