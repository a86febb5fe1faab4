"""Logging: one stderr handler for every logger (uvicorn's included), JSON lines with the request id."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from app.obs.context import current_request_id


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields (request id)."""

    # Record attributes that are not ``extra`` fields (uvicorn's color_message repeats the message).
    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _attach_request_id(record: logging.LogRecord) -> bool:
    # Runs in the logging call's own context, where the request's id is still set.
    if not hasattr(record, "request_id"):
        request_id = current_request_id()
        if request_id is not None:
            record.request_id = request_id
    return True


def configure_logging(level: str, log_format: str) -> None:
    """Route every logger (uvicorn's included) to one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_attach_request_id)
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Our access log replaces uvicorn's: it carries the request id, route and duration.
    logging.getLogger("uvicorn.access").disabled = True
