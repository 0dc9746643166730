"""Request and response bodies of the REST API (they make the OpenAPI spec).

``DetectionResponse`` mirrors :class:`byline.reporting.result.DetectionResult`
field for field (a test keeps them in step), so ``POST /v1/detect`` returns the
same document as ``byline check --json``; likewise ``TraceResponse`` mirrors
:class:`byline.tracing.result.TraceResult` (``byline trace --json``).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from byline.interfaces.server.settings import MAX_BATCH_DOCUMENTS, MAX_TRACE_MATCHES
from byline.reporting.result import DetectionResult

#: The same bounds as ``byline check --fpr``.
MIN_FPR, MAX_FPR = 1e-4, 0.5

_DOCUMENT_FIELDS = ("text", "html", "url")


class DocumentFields(BaseModel):
    """One article: exactly one of ``text``, ``html`` or ``url``."""

    model_config = ConfigDict(
        extra="forbid",
        # Tells clients (and schemathesis) that exactly one of the three is required.
        json_schema_extra={"oneOf": [{"required": [name]} for name in _DOCUMENT_FIELDS]},
    )

    # ``str`` with a ``None`` default: the field may be left out, but not sent as null.
    text: str = Field(
        None,  # type: ignore[assignment]
        description="The article as plain text (paragraphs separated by blank lines).",
        examples=["The council approved the budget on Tuesday after a long debate ..."],
    )
    html: str = Field(
        None,  # type: ignore[assignment]
        description="An HTML page; its main text is extracted (trafilatura) and its title kept but not scored.",
    )
    url: str = Field(
        None,  # type: ignore[assignment]
        max_length=2000,
        description="An http(s) page to fetch and extract. Only accepted when the server was started "
        "with --allow-fetch, and never for private, loopback or link-local addresses.",
    )
    source: str = Field(
        None,  # type: ignore[assignment]
        max_length=300,
        description="A name for the document, echoed in the result's `source` (e.g. its file name).",
    )

    @model_validator(mode="after")
    def _exactly_one_document(self) -> DocumentFields:
        given = [name for name in _DOCUMENT_FIELDS if getattr(self, name) is not None]
        if len(given) != 1:
            found = " and ".join(given) if given else "none of them"
            raise ValueError(f"give exactly one of `text`, `html` or `url` (got {found})")
        return self

    @property
    def kind(self) -> str:
        return next(name for name in _DOCUMENT_FIELDS if getattr(self, name) is not None)


class DetectOptions(BaseModel):
    fpr: float = Field(
        None,  # type: ignore[assignment]
        ge=MIN_FPR,
        le=MAX_FPR,
        description="Target false-positive rate on human news for the verdict (default: the server's, "
        "usually 0.01). Lower is stricter: fewer human articles are flagged.",
    )
    detector: str = Field(
        None,  # type: ignore[assignment]
        max_length=200,
        description="Name of a detector the server loaded at start-up (see GET /v1/info); "
        "default: the first one. A server never loads a detector named by a client.",
    )


class DetectRequest(DetectOptions, DocumentFields):
    """Score one article."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": [name]} for name in _DOCUMENT_FIELDS]},
    )


class BatchDocument(DocumentFields):
    """One article of a batch."""


class BatchRequest(DetectOptions):
    """Score up to MAX_BATCH_DOCUMENTS (32) articles with the same detector and false-positive rate."""

    model_config = ConfigDict(extra="forbid")

    documents: list[BatchDocument] = Field(
        ...,
        min_length=1,
        max_length=MAX_BATCH_DOCUMENTS,
        description=f"1 to {MAX_BATCH_DOCUMENTS} articles; the results come back in the same order.",
    )


class TraceRequest(DetectOptions, DocumentFields):
    """Trace one article to its most likely source in the server's source index."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": [name]} for name in _DOCUMENT_FIELDS]},
    )

    limit: int = Field(
        5,
        ge=1,
        le=MAX_TRACE_MATCHES,
        description=f"How many candidate sources to return, best first (1 to {MAX_TRACE_MATCHES}).",
    )
    verdict: bool = Field(
        True,
        description="Also give Byline's machine-written verdict on the article (`false` skips the language "
        "model, like `byline trace --no-verdict`; `detector` and `fpr` are then unused).",
    )


# -- responses ------------------------------------------------------------------------------


class SentenceOut(BaseModel):
    text: str = Field(description="The sentence; equal to the result's text[start:end].")
    start: int = Field(description="Offset of the sentence in `text`, in Unicode code points.")
    end: int = Field(description="End offset (exclusive), in Unicode code points.")
    ai_probability: float | None = Field(
        description="Probability that this sentence is machine-written; null when the text is too short to judge."
    )
    evidence: Literal["language_model", "text_only"] | None = Field(
        default=None,
        description="What the probability rests on: `language_model` (token statistics, style and wording) or "
        "`text_only` (style and wording: sentences past the language model's token budget).",
    )


class SignalOut(BaseModel):
    name: str = Field(description="Feature name, e.g. `style.hapax_rate`.")
    value: float | None = Field(description="The feature's value on this text (null if not finite).")
    contribution: float = Field(description="Push on the log-odds; positive means towards machine-written.")
    direction: Literal["ai", "human"] = Field(description="Which way this signal points.")
    description: str = Field(description="What the signal measured, in plain words.")


class RepairsOut(BaseModel):
    spelling: int = Field(description="Misspelt words corrected before scoring.")
    case: int = Field(description="Capitalisation flips undone before scoring.")
    surrogates: int = Field(
        0, description="Unpaired UTF-16 surrogates (not characters) replaced with U+FFFD."
    )


class DetectionResponse(BaseModel):
    """The verdict and the evidence for one article (the `byline check --json` document)."""

    ai_probability: float | None = Field(
        description="Calibrated probability that a language model wrote the text (null without a verdict)."
    )
    verdict: Literal["ai", "human", "too_short", "not_prose", "unsupported_language"] = Field(
        description="`ai`, `human`, or no verdict: `too_short`, `not_prose`, `unsupported_language` (see `reason`)."
    )
    threshold: float = Field(
        description="The probability above which the verdict is `ai`, for an article of this length."
    )
    fpr_target: float = Field(
        description="The false-positive rate on human news the threshold was chosen for."
    )
    model: str = Field(description="The detector and the language model(s) it used.")
    n_tokens: int = Field(description="Tokens in the text.")
    n_scored_tokens: int = Field(description="Tokens the language model scored.")
    n_words: int = Field(description="Words in the text.")
    ai_share: float | None = Field(
        description="Share of the text (by characters) in sentences that read as machine-written."
    )
    sentences: list[SentenceOut] = Field(description="Every sentence with its offsets and probability.")
    signals: list[SignalOut] = Field(description="The strongest evidence behind the verdict.")
    reason: str | None = Field(
        description="Why there is no verdict (`too_short`, `not_prose`, `unsupported_language`)."
    )
    language: str | None = Field(
        default=None, description="ISO 639 code of the text's language, when identified with confidence."
    )
    repairs: RepairsOut = Field(
        description="Noise undone before scoring; non-zero only when it was systematic."
    )
    source: str = Field(description="Where the article came from.")
    title: str | None = Field(description="The title of an HTML page (never scored).")
    text: str = Field(description="The normalised text that was scored; offsets refer to it.")
    version: str = Field(description="Byline's version.")
    schema_version: int = Field(description="Version of this layout.")


class SourceMatchOut(BaseModel):
    id: str = Field(description="The source article's id in the index.")
    title: str | None = Field(description="Its title, if the index has one.")
    url: str | None = Field(description="Its address, if the index has one.")
    date: str | None = Field(description="Its date, if the index has one.")
    score: float = Field(description="0-1, higher is closer; ranks the matches.")
    likely_source: bool = Field(
        description="Whether the score is high enough to call the article a version of it."
    )
    article_similarity: float = Field(
        description="Cosine similarity of the two articles' mean sentence vectors."
    )
    supported_share: float = Field(
        description="Share of the article (by characters) in sentences with support in this source."
    )
    shared_facts: float = Field(
        description="Share of the article's numbers and names that this source also has."
    )


class SupportingSentenceOut(BaseModel):
    text: str = Field(description="A source sentence; equal to the source's text[start:end].")
    start: int = Field(description="Offset in the source's text, in Unicode code points.")
    end: int = Field(description="End offset (exclusive), in Unicode code points.")
    similarity: float = Field(description="Cosine similarity with the article sentence.")


class AlignedSentenceOut(BaseModel):
    text: str = Field(description="An article sentence; equal to the result's text[start:end].")
    start: int = Field(description="Offset in the result's `text`, in Unicode code points.")
    end: int = Field(description="End offset (exclusive), in Unicode code points.")
    supported: bool = Field(
        description="False when no source sentence is similar enough: an added claim or a changed statement."
    )
    similarity: float = Field(description="Similarity of the best source sentence.")
    sources: list[SupportingSentenceOut] = Field(
        description="The source sentences that support it (up to 3, best first; empty when unsupported)."
    )
    new_numbers: list[str] = Field(description="Numbers in this sentence that its source sentences lack.")
    new_names: list[str] = Field(
        description="Capitalised names (lower-cased) that its source sentences lack."
    )


class AlignmentOut(BaseModel):
    source_id: str = Field(description="The id of the best match, which the article is aligned with.")
    support_threshold: float = Field(description="Similarity from which a sentence counts as supported.")
    sentences: list[AlignedSentenceOut] = Field(description="Every sentence of the article, in order.")
    supported_share: float = Field(description="Share of the article (by characters) in supported sentences.")
    unsupported_sentences: int = Field(description="Sentences without support in the source.")
    changed_facts: int = Field(description="Sentences with a number or name the source lacks.")
    source_reused_share: float = Field(
        description="Share of the source (by characters) in sentences that some article sentence matches."
    )
    source_sentences_reused: int = Field(description="Source sentences that some article sentence matches.")
    source_sentences: int = Field(description="Sentences in the source.")


class TraceIndexOut(BaseModel):
    path: str = Field(
        description="The name of the index the server was started with (`--trace-index`), not its path."
    )
    articles: int = Field(description="Articles in the index.")
    encoder: str = Field(description="The sentence encoder the index was built with.")


class TraceResponse(BaseModel):
    """Where an article most likely came from, what changed, and whether a machine wrote it
    (the `byline trace --json` document)."""

    matches: list[SourceMatchOut] = Field(
        description="Candidate sources, best first (empty for an empty index)."
    )
    alignment: AlignmentOut | None = Field(
        description="The article sentence by sentence against the best match (null when there is none)."
    )
    verdict: DetectionResponse | None = Field(
        description="Byline's verdict on the article (the `POST /v1/detect` document); null when not asked for."
    )
    source: str = Field(description="Where the article came from.")
    title: str | None = Field(description="The title of an HTML page.")
    text: str = Field(description="The normalised text that was traced; offsets refer to it.")
    index: TraceIndexOut = Field(description="The source index searched.")
    version: str = Field(description="Byline's version.")
    schema_version: int = Field(description="Version of this layout.")


class FieldProblem(BaseModel):
    field: str = Field(description="Where the problem is, e.g. `text` or `documents[2].html`.")
    message: str = Field(description="What is wrong with it.")


class ErrorResponse(BaseModel):
    """Every error has this shape."""

    error: str = Field(
        description="A stable code: unauthorized, request_timeout, payload_too_large, invalid_request, invalid_input, "
        "queue_full, shutting_down, no_trace_index, not_found, method_not_allowed, internal_error."
    )
    message: str = Field(description="One line for people, naming the field or input at fault.")
    fields: list[FieldProblem] = Field(default_factory=list, description="Each field at fault, if any.")


class BatchItem(BaseModel):
    index: int = Field(description="Position of the document in the request.")
    result: DetectionResponse | None = Field(description="The result, or null when the document failed.")
    error: ErrorResponse | None = Field(description="Why the document failed, or null.")


class BatchResponse(BaseModel):
    results: list[BatchItem] = Field(description="One item per document, in the order sent.")


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    queued_documents: int = Field(description="Documents waiting or being scored in this worker process.")
    queue_capacity: int = Field(description="Documents this worker process accepts before answering 503.")


class InfoResponse(BaseModel):
    version: str
    default_detector: str = Field(description="The detector used when a request names none.")
    detectors: dict[str, dict[str, Any]] = Field(
        description="Each loaded detector's `Detector.info()`: language models and their precision, token budget, "
        "minimum words, the languages it judges, default false-positive rate, thresholds at common rates, the training "
        "outlets whose own false-positive rate those thresholds hold, and the default rate's "
        "threshold for each article length band (short articles need a higher one)."
    )
    limits: dict[str, Any] = Field(description="Request limits of this server.")
    server: dict[str, Any] = Field(
        description="How this server runs (workers, fetching, authentication, "
        "the source index of `POST /v1/trace`)."
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_document(result: DetectionResult) -> dict[str, Any]:
    """``DetectionResult.to_dict()``, with non-finite numbers (not valid JSON) as null."""
    document = result.to_dict()
    for key in ("ai_probability", "ai_share"):
        document[key] = _finite(document[key])
    for sentence in document["sentences"]:
        sentence["ai_probability"] = _finite(sentence["ai_probability"])
    for signal in document["signals"]:
        signal["value"] = _finite(signal["value"])
        if signal["contribution"] is not None and not math.isfinite(signal["contribution"]):
            signal["contribution"] = 0.0
    return document
