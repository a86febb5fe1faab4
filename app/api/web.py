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
    return listed_file(WEB, name, ASSETS, "/web")


def listed_file(folder: Path, name: str, listed: dict[str, str], route: str) -> FileResponse:
    """`folder/name` if the allow-list `listed` (file name → media type) names it, else a 404.

    An allow-list, not a path check: nothing from the URL ever reaches the file system.
    """
    media_type = listed.get(name)
    if media_type is None:
        raise HTTPException(404, f"no such file: {route}/{name}")
    return FileResponse(folder / name, media_type=media_type, headers=HEADERS)
