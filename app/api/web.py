"""The page at `/`: paste an article, see every sentence highlighted by label.

Three static files from ``app/web`` (no CDN, works offline). A strict Content-Security-Policy allows only
this origin's own script, style and API, so even a bug that put article text into markup could not run it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

WEB = Path(__file__).resolve().parents[1] / "web"
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate (ETag) so an upgraded service never serves a stale script
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def page() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/web/{name}")
async def asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)  # an allow-list: no path from the URL ever reaches the file system
    if media_type is None:
        raise HTTPException(404, f"no such file: /web/{name}")
    return FileResponse(WEB / name, media_type=media_type, headers=HEADERS)
