"""Logging for every boxoffice process: readable text or one JSON object a line, each with its request id.

``BOXOFFICE_LOG_FORMAT=json`` gives ``{"time", "level", "logger", "message", "request_id", …}``; access
log lines add ``method``, ``path``, ``status`` and ``duration_ms``. The request id lives in a context
variable, so every line logged while a request is handled carries it, whichever module logs it.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

from boxoffice.config import get_settings

request_id: ContextVar[str | None] = ContextVar("boxoffice_request_id", default=None)

# Fields an access log line passes with ``extra=``; the JSON format writes them as keys of their own.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
_HANDLER_NAME = "boxoffice"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being handled (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line.update({key: getattr(record, key) for key in ACCESS_FIELDS if hasattr(record, key)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners and CLI runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def configure_logging(*, force: bool = False) -> None:
    """Send INFO and above of every logger to stderr in the configured format (idempotent).

    Like ``logging.basicConfig``, it leaves alone a logging set up by someone else (a test runner,
    an application embedding boxoffice) unless ``force`` is given.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == _HANDLER_NAME]
    if len(root.handlers) > len(ours) and not force:
        return
    for handler in ours:
        root.removeHandler(handler)
    handler = _StderrHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    json_format = get_settings().log_format == "json"
    handler.setFormatter(JsonFormatter() if json_format else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Alembic's INFO lines are its internals (plugins, DDL mode); `boxoffice migrate` says what matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # uvicorn's own loggers go through ours, so its start-up lines share the format.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
