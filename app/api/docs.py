"""The OpenAPI page at `/docs`, offline: Swagger UI's files come from an installed, pinned package.

FastAPI's own `/docs` loads Swagger UI from a CDN and starts it with an inline script, so without internet
it is a blank page, and a strict Content-Security-Policy would block it anyway. Here the script and the
stylesheet come from the `swagger-ui-bundle-v2` package (pinned in pyproject.toml), the page and its
start-up script are ours (``app/web/docs.html``, ``app/web/docs.js``), and everything is served under the
same policy as the page at `/` (only this origin). `/redoc` is off: one API page is enough.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from swagger_ui_bundle import swagger_ui_path

from app.api.web import HEADERS, WEB, listed_file

SWAGGER_UI = Path(str(swagger_ui_path))
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def page() -> FileResponse:
    return FileResponse(WEB / "docs.html", media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/docs/{name}")
async def asset(name: str) -> FileResponse:
    return listed_file(SWAGGER_UI, name, ASSETS, "/docs")
