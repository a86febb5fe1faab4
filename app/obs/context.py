"""The request context: the id of the request this code runs for, set once per request task.

The id is taken from the caller's ``X-Request-ID`` when it is a sane token, else made here; the access
log, every log line and every error body carry it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("claimsift_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request this code runs for, or None outside a request (the inference thread)."""
    return _request_id.get()


def begin_request(offered: str | None) -> str:
    """Adopt the caller's X-Request-ID when it is a sane token, else make one; it stays set for the task.

    Not reset on the way out on purpose: the server's last-resort error handler runs after the
    middleware has returned and must still see the id. Each request runs in its own task under uvicorn.
    """
    request_id = offered if offered and _REQUEST_ID_SHAPE.fullmatch(offered) else uuid.uuid4().hex
    _request_id.set(request_id)
    return request_id
