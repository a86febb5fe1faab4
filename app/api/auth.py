"""Who may call the API: optional API keys for /v1/* and an optional CORS allow-list; both off by default.

The key check is a pure ASGI middleware so a request without a valid key is refused before its body is
read. Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against every configured key
(equal lengths, no early exit), so timing reveals neither a key nor which one matched. Keys never reach
a log line, an error message or the settings' repr (``SecretStr``). The keys file format is ``app/keys.py``,
the keys in force and their reloading ``app/api/keyring.py``, the buckets ``app/quota.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_body
from app.api.keyring import KeyMetrics, KeyRing
from app.errors import ClaimsiftError, QuotaExceeded, Unauthorized
from app.keys import digest
from app.quota import KeyQuota, serving
from app.settings import Settings

log = logging.getLogger(__name__)

PROTECTED_PREFIX = "/v1"
_REALM = 'Bearer realm="claimsift"'


def install_access_control(app: FastAPI, settings: Settings) -> None:
    """Add the key check and CORS as the settings ask; CORS goes outside so 401s carry its headers.

    With keys on, ``app.state.key_ring`` holds them; the lifespan starts and stops its file watch.
    """
    ring = KeyRing(settings)
    app.state.key_ring = ring if ring.enabled else None
    if ring.enabled:
        app.add_middleware(ApiKeyGuard, ring=ring)
        app.state.metrics.registry.register(KeyMetrics(ring))
        _document_security(app)
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization", "X-Request-ID"],
            expose_headers=["Retry-After", "X-Request-ID"],
            max_age=600,
        )


class ApiKeyGuard:
    """401 without a valid key; the key's concurrency cap and an empty bucket answer 429 at once."""

    def __init__(self, app: ASGIApp, ring: KeyRing) -> None:
        self.app = app
        self.ring = ring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            quota = self._check(Headers(scope=scope))
        except Unauthorized as error:
            client = (scope.get("client") or ("unknown", 0))[0]
            log.warning("refused %s %s from %s: %s", scope["method"], scope["path"], client, error.message)
            await _refuse(error, scope, receive, send)
            return
        try:
            quota.enter()
        except QuotaExceeded as error:
            quota.requests["429"] += 1
            await _refuse(error, scope, receive, send)
            return
        status = 500  # what the server answers if the app raises before it responds

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with serving(quota):
                await self.app(scope, receive, send_and_note)
        finally:
            quota.leave()
            quota.requests[str(status)] += 1

    def _check(self, headers: Headers) -> KeyQuota:
        quota = self.ring.match(digest(_presented_key(headers)))
        if quota is None:
            raise Unauthorized(
                "invalid API key", headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'}
            )
        return quota


async def _refuse(error: ClaimsiftError, scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(error_body(error.code, error.message), error.status, headers=error.headers)
    await response(scope, receive, send)


def _is_protected(path: str) -> bool:
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


def _presented_key(headers: Headers) -> str:
    """The key from `X-API-Key`, else from `Authorization: Bearer`; 401 when neither carries one."""
    key = headers.get("x-api-key", "").strip()
    if key:
        return key
    authorization = headers.get("authorization", "").strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized(
                "unsupported Authorization scheme; send the key as Authorization: Bearer <key> or X-API-Key",
                headers={"WWW-Authenticate": f'{_REALM}, error="invalid_request"'},
            )
        if token.strip():
            return token.strip()
    raise Unauthorized(
        "missing API key: send it as X-API-Key or Authorization: Bearer <key>",
        headers={"WWW-Authenticate": _REALM},
    )


def _document_security(app: FastAPI) -> None:
    """Show both ways of sending the key in /openapi.json (and the Authorize button in /docs)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {})["securitySchemes"] = {
            "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "BearerAuth": {"type": "http", "scheme": "bearer"},
        }
        for path, operations in schema.get("paths", {}).items():
            if _is_protected(path):
                for operation in operations.values():
                    operation["security"] = [{"ApiKeyHeader": []}, {"BearerAuth": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
