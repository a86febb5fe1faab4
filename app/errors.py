"""One error tree and one status table; the API renders each error as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from collections.abc import Mapping


class ClaimsiftError(Exception):
    """Base of every error a client may see; ``status`` and ``code`` form the one status table."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class InvalidInput(ClaimsiftError):
    status = 422
    code = "invalid_input"


class PayloadTooLarge(ClaimsiftError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ClaimsiftError):
    status = 415
    code = "unsupported_media_type"


class InvalidEncoding(ClaimsiftError):
    status = 400
    code = "invalid_encoding"


class Unauthorized(ClaimsiftError):
    """API keys are configured and the request has none, or a wrong one."""

    status = 401
    code = "unauthorized"


class NotReady(ClaimsiftError):
    status = 503
    code = "not_ready"

    def __init__(self, message: str = "the model is still loading; retry shortly") -> None:
        super().__init__(message, headers={"Retry-After": "2"})


class Overloaded(ClaimsiftError):
    """The inference queue is full: fail fast instead of growing memory."""

    status = 429
    code = "overloaded"

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class QuotaExceeded(ClaimsiftError):
    """The API key is over its own rate or concurrency quota (the keys file); other keys are unaffected."""

    status = 429
    code = "quota_exceeded"

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)})


class InferenceFailed(ClaimsiftError):
    """A batch failed inside the backend: only the requests in that batch see it."""

    status = 500
    code = "inference_failed"


class DeadlineExceeded(ClaimsiftError):
    """The request ran past CLAIMSIFT_REQUEST_TIMEOUT_S; it was cancelled and its queued sentences dropped."""

    status = 504
    code = "deadline_exceeded"


class ModelLoadError(Exception):
    """The backend could not be built; the service stays unready and logs why."""


# code -> (status, what it means): rendered into the README and the OpenAPI responses.
STATUS_TABLE: dict[str, tuple[int, str]] = {
    "invalid_json": (422, "The body is not valid JSON."),
    "validation_error": (422, "The JSON does not match the schema (unknown field, empty text, bad labels)."),
    InvalidInput.code: (422, "A value is well-formed but not acceptable (e.g. too many labels)."),
    PayloadTooLarge.code: (413, "Body, text or sentence count over the configured limit."),
    UnsupportedMediaType.code: (415, "Content-Type is not application/json."),
    InvalidEncoding.code: (400, "The body is not valid UTF-8."),
    Unauthorized.code: (401, "API keys are on and the request has no valid key (docs/api.md)."),
    "not_found": (404, "No such route."),
    "method_not_allowed": (405, "The route exists but not for this method."),
    Overloaded.code: (429, "The inference queue is full; retry after Retry-After seconds."),
    QuotaExceeded.code: (
        429,
        "The API key is over its rate or concurrency quota (keys file); retry after Retry-After seconds.",
    ),
    NotReady.code: (503, "The model is not loaded yet (see /readyz); retry after Retry-After seconds."),
    InferenceFailed.code: (500, "The backend failed on this request's batch; other requests are unaffected."),
    DeadlineExceeded.code: (504, "The request ran past the per-request deadline; nothing more is computed."),
    ClaimsiftError.code: (500, "Unexpected error; the message carries the request id."),
}
