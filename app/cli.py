"""The `claimsift` command: serve (and, as they arrive, classify | eval | train)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from app.settings import Settings

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command = args.command
    return command(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimsift", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="interface to bind (CLAIMSIFT_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (CLAIMSIFT_PORT, default 8000)")
    serve.add_argument("--backend", choices=["embedding", "nli"], help="CLAIMSIFT_BACKEND")
    serve.add_argument("--model", help="model directory or hub id (CLAIMSIFT_MODEL)")
    serve.set_defaults(command=_serve)
    return parser


def load_settings(**overrides: Any) -> Settings:
    """Settings from CLAIMSIFT_* env vars, with command-line flags on top; exits with a clear message."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        sys.exit(f"claimsift: invalid settings: {problems}")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    settings = load_settings(host=args.host, port=args.port, backend=args.backend, model=args.model)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=30,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
