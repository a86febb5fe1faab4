"""The one way the commands reach the service: the Python client, over HTTP (``--url``) or in-process.

In-process runs build the app with ``create_app``, enter its own lifespan and speak to it through the
same ``AsyncClaimsiftClient`` over an in-memory ASGI transport, so both paths go through the same
validation, limits, auth and code. The API key comes from CLAIMSIFT_API_KEY on both paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from claimsift_client import AsyncClaimsiftClient, AuthenticationError, ClientError

from app.settings import Settings

API_KEY_ENV = "CLAIMSIFT_API_KEY"
T = TypeVar("T")


class CommandError(Exception):
    """The command cannot run (unreadable input, unusable service); printed, exit status 2."""


@contextlib.asynccontextmanager
async def open_client(url: str | None, settings: Settings) -> AsyncIterator[AsyncClaimsiftClient]:
    """A client of the service at ``url``, or of one built here from ``settings``; checked with one call
    up front, so an unusable service is one clear failure instead of the same one per record."""
    api_key = os.environ.get(API_KEY_ENV) or None
    where = url or "the in-process service"
    opened = _in_process(settings, api_key) if url is None else AsyncClaimsiftClient(url, api_key=api_key)
    async with contextlib.AsyncExitStack() as stack:
        try:
            client = await stack.enter_async_context(opened)
            await client.labels()
        except ClientError as exc:
            hint = f" (the key is read from {API_KEY_ENV})" if isinstance(exc, AuthenticationError) else ""
            raise CommandError(f"cannot use {where}: {exc}{hint}") from exc
        yield client


@contextlib.asynccontextmanager
async def _in_process(settings: Settings, api_key: str | None) -> AsyncIterator[AsyncClaimsiftClient]:
    import httpx

    from app.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # A server-side failure must come back as its 500 answer, as over HTTP, not crash the run.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClaimsiftClient(
            "http://claimsift.in-process", api_key=api_key, timeout_s=None, transport=transport
        ) as client:
            await client.wait_ready(interval_s=0.05)  # raises at once if the model failed to load
            yield client


def run_command(name: str, work: Coroutine[Any, Any, int]) -> int:
    """Run a command's coroutine; a CommandError is printed as ``claimsift NAME: message``, status 2."""
    try:
        return asyncio.run(work)
    except CommandError as exc:
        print(f"claimsift {name}: {exc}", file=sys.stderr)
        return 2
