"""A JSON log formatter (standard library only): one object per line, with the extra fields.

Every record becomes ``{"time", "level", "logger", "pid", "message", ...}`` followed by the
fields passed as ``extra`` (the outcome records' ``outcome``, ``status``, ``reason``,
``handler``, ``step_id``, ``duration_ms``) and, for an exception, its ``traceback``.

Used by ``gunicorn_json.py`` (``gunicorn -c examples/gunicorn_json.py ...``); in code::

    handler = logging.StreamHandler()
    handler.setFormatter(JSONFormatter())
    logging.getLogger().addHandler(handler)
"""
from __future__ import annotations

import datetime
import json
import logging
from typing import Any

#: What every LogRecord has: anything else on a record came in through ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


class JSONFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "pid": record.process,
            "message": record.getMessage()}
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                document[name] = value
        if record.exc_info:
            document["traceback"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=False)
