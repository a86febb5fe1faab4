"""`claimsift serve`: the app of ``create_app`` under uvicorn, with the configured logging."""

from __future__ import annotations

from app.settings import Settings


def run(settings: Settings) -> int:
    import uvicorn

    from app.main import create_app
    from app.model.extras import require_extras_for
    from app.obs.logs import configure_logging

    require_extras_for(settings)  # one line now, rather than a server that never gets ready
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # keep the handlers configure_logging installed (JSON, request ids)
        timeout_graceful_shutdown=30,
    )
    return 0
