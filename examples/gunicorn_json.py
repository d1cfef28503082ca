"""gunicorn settings logging JSON lines (``gunicorn -c examples/gunicorn_json.py
--pythonpath examples bot:app``): gunicorn's own records and the webhook's, with their
``extra`` fields, through :class:`json_logging.JSONFormatter` (``--pythonpath examples``
makes it importable)."""
from __future__ import annotations

from typing import Any

#: gunicorn applies it with ``logging.config.dictConfig``.
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "json_logging.JSONFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                             "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        # gunicorn's records go to the root's handler, like the webhook's.
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}
