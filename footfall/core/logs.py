"""Logging set-up, done once in each entry point.

Two formats: `text` for people (rich, to stderr) and `json` for log shippers (one
object per line with time, level, logger, message and any `store_id`/`device_id` passed
through `extra=`).
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

_CONTEXT = ("store_id", "device_id", "topic", "reason", "batch", "worker")


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in _CONTEXT:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure(level: str = "INFO", fmt: Literal["text", "json"] = "text") -> None:
    """Configure the root logger for this process (idempotent)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    if fmt == "json":
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        from rich.logging import RichHandler

        handler = RichHandler(rich_tracebacks=False, show_path=False, log_time_format="%H:%M:%S")
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
