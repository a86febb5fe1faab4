"""Every error the client raises, and the one place an HTTP answer or an httpx failure becomes one.

ClientError
├── ConnectionFailed      the service could not be reached, even after the retries
├── ResponseError         a 200 whose body is not the documented response
└── APIError              the service answered with an error (status, code, message, request_id)
    ├── AuthenticationError   401/403
    ├── InvalidRequest        other 4xx: the request must change
    ├── ServiceBusy           429/503 after every retry
    └── ServerError           5xx
"""

from __future__ import annotations

import httpx

RETRY_STATUSES = frozenset({429, 503})


class ClientError(Exception):
    """Base of every error this client raises; ``code`` names it the way the API names its errors."""

    code = "client_error"


class ConnectionFailed(ClientError):
    """The service could not be reached (refused, DNS, timeout) even after the retries."""

    code = "connection_failed"


class ResponseError(ClientError):
    """The service answered 200 with a body that is not the documented response."""

    code = "bad_response"


class APIError(ClientError):
    """The service answered with an error: the HTTP status and the API's ``{"error": {...}}`` body."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


class AuthenticationError(APIError):
    """401/403: the API key is missing or wrong."""


class InvalidRequest(APIError):
    """400/413/415/422 and other 4xx: the request itself must change before it can succeed."""


class ServiceBusy(APIError):
    """429 or 503 after every retry: the queue stayed full or the model is still loading."""


class ServerError(APIError):
    """500 and other 5xx answers."""


def api_error(response: httpx.Response) -> APIError:
    """The error an answer that is not 200 stands for, with the API's code and request id when it has them."""
    status = response.status_code
    code, message, request_id = f"http_{status}", response.text[:300] or response.reason_phrase, None
    try:
        detail = response.json()["error"]
        code, message = str(detail["code"]), str(detail["message"])
        request_id = detail.get("request_id") or response.headers.get("x-request-id")
    except (ValueError, KeyError, TypeError):
        pass  # not the API's error body (a proxy's HTML page, say): keep the raw text
    kind: type[APIError]
    if status in (401, 403):
        kind = AuthenticationError
    elif status in RETRY_STATUSES:
        kind = ServiceBusy
    elif status >= 500:
        kind = ServerError
    else:
        kind = InvalidRequest
    return kind(status, code, message, request_id)


def unreachable(method: str, base_url: httpx.URL, path: str, exc: httpx.HTTPError) -> ConnectionFailed:
    reason = str(exc) or type(exc).__name__
    return ConnectionFailed(f"{method} {str(base_url).rstrip('/')}{path} failed: {reason}")
