"""Who may call the API: optional API keys for /v1/* and an optional CORS allow-list; both off by default.

The key check is a pure ASGI middleware so a request without a valid key is refused before its body is
read. Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against every configured key
(equal lengths, no early exit), so timing reveals neither a key nor which one matched. Keys never reach
a log line, an error message or the settings' repr (``SecretStr``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import error_body
from app.errors import Unauthorized
from app.settings import Settings

log = logging.getLogger(__name__)

PROTECTED_PREFIX = "/v1"
_REALM = 'Bearer realm="claimsift"'


def install_access_control(app: FastAPI, settings: Settings) -> None:
    """Add the key check and CORS as the settings ask; CORS goes outside so 401s carry its headers."""
    keys = settings.api_key_list()
    if keys:
        app.add_middleware(ApiKeyGuard, keys=keys)
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
    def __init__(self, app: ASGIApp, keys: list[str]) -> None:
        self.app = app
        self._digests = [_digest(key) for key in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            self._check(Headers(scope=scope))
        except Unauthorized as error:
            client = (scope.get("client") or ("unknown", 0))[0]
            log.warning("refused %s %s from %s: %s", scope["method"], scope["path"], client, error.message)
            response = JSONResponse(error_body(error.code, error.message), 401, headers=error.headers)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, headers: Headers) -> None:
        presented = _presented_key(headers)
        digest = _digest(presented)
        matched = False
        for known in self._digests:  # no early exit: every key is compared on every request
            matched |= hmac.compare_digest(digest, known)
        if not matched:
            raise Unauthorized(
                "invalid API key", headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'}
            )


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


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


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
