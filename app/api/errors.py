"""The error boundary: every exception leaves as ``{"error": {"code", "message", "request_id"}}``."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.errors import ClaimsiftError
from app.obs.context import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one error body of the API; the request id is what a client quotes when it reports a failure."""
    detail = {"code": code, "message": message}
    request_id = current_request_id()
    if request_id is not None:
        detail["request_id"] = request_id
    return {"error": detail}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClaimsiftError, _claimsift_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


def _claimsift_error(request: Request, exc: ClaimsiftError) -> JSONResponse:
    return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return JSONResponse(error_body("invalid_json", "the body is not valid JSON"), status_code=422)
    return JSONResponse(error_body("validation_error", _describe(errors)), status_code=422)


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # This handler runs outside the request-id middleware, so it echoes the id itself.
    request_id = current_request_id() or uuid.uuid4().hex
    log.error("unexpected error, request id %s", request_id, exc_info=exc)
    message = f"unexpected error; quote request id {request_id}"
    headers = {REQUEST_ID_HEADER: request_id}
    return JSONResponse(error_body("internal_error", message), status_code=500, headers=headers)


def _describe(errors: object) -> str:
    parts = []
    for error in list(errors)[:5]:  # type: ignore[call-overload]
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{location or 'body'}: {message}")
    return "; ".join(parts)
