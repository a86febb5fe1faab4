"""Pure ASGI middleware around every request: request id, stage timings, access log and metrics; the deadline.

``RequestContext`` runs outermost so the id, the log line and the metrics cover every answer, the
body guard's 413 and the deadline's 504 included. ``Deadline`` cancels the request's task when time is
up; cancelling the await on the batcher's future marks that future done, and the batcher skips the
queued sentences of any job whose future is done, so a timed-out request costs no more inference.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_body
from app.batching import StageTimes
from app.errors import DeadlineExceeded
from app.obs.context import REQUEST_ID_HEADER, begin_request
from app.obs.metrics import Metrics

access_log = logging.getLogger("claimsift.access")

_LOGGED_TEXT_LIMIT = 10_000  # characters of the body kept when CLAIMSIFT_LOG_REQUEST_TEXT is on
_UNMATCHED = "unmatched"  # one label for every unknown path, so scanners cannot explode the metrics


class RequestContext:
    """Gives each request an id (echoed in X-Request-ID), one access-log line and its metrics; a request
    that classified (its route took ``StageTimesDep``) also gets a Server-Timing header and stage metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_request_text: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_request_text = log_request_text

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = begin_request(Headers(scope=scope).get(REQUEST_ID_HEADER))
        response: dict[str, Any] = {"status": 500}
        body: list[bytes] = []

        # Where the route's StageTimesDep leaves the timings: a copy, as a server may share one state dict.
        state = scope["state"] = dict(scope.get("state", {}))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                headers = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
                times: StageTimes | None = state.get("stage_times")
                if times is not None:
                    headers.append((b"server-timing", server_timing(times.by_stage()).encode()))
                    self.metrics.record_stages(times.by_stage())
                message["headers"] = headers
            await send(message)

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
            return message

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive_and_keep if self.log_request_text else receive, send_with_id)
        finally:
            self.metrics.in_flight.dec()
            # An exception before the response started is answered 500 by the server's last handler.
            self._record(scope, request_id, response["status"], time.perf_counter() - started, body)

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float, body: list[bytes]) -> None:
        route = _route_template(scope)
        self.metrics.record_request(route, scope["method"], status, seconds)
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "client": (scope.get("client") or ("", 0))[0],
        }
        if self.log_request_text:
            fields["body"] = b"".join(body).decode("utf-8", "replace")[:_LOGGED_TEXT_LIMIT]
        access_log.info("%s %s %s", scope["method"], scope["path"], status, extra=fields)


class Deadline:
    """Answers 504 to a request still running after CLAIMSIFT_REQUEST_TIMEOUT_S, and cancels it."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_and_note(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, send_and_note)
        except TimeoutError:
            if response_started:
                raise  # half a response is out; the server closes the connection
            error = DeadlineExceeded(
                f"the request did not finish within {self.seconds:g} s (CLAIMSIFT_REQUEST_TIMEOUT_S); "
                "it was cancelled and nothing more is computed for it: retry with less text or later"
            )
            await JSONResponse(error_body(error.code, error.message), status_code=error.status)(
                scope, receive, send
            )


def server_timing(stages: dict[str, float]) -> str:
    """``queue;dur=1.25, tokenize;dur=0.40, ...``: each stage in milliseconds (W3C Server Timing)."""
    return ", ".join(f"{name};dur={seconds * 1000:.2f}" for name, seconds in stages.items())


def _route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/extract``), never the raw path of an unknown URL."""
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    # Refused before routing (the body guard's 413/415): find the route the request was meant for.
    return _match(getattr(scope.get("app"), "routes", ()), scope)


def _match(routes: Iterable[Any], scope: Scope) -> str:
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match is Match.NONE:
            continue
        path = getattr(candidate, "path", None)
        if isinstance(path, str):
            return path
        return _match(getattr(candidate, "routes", ()), scope)  # an included router
    return _UNMATCHED
