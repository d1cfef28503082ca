"""What operators need beside the webhook: the start-up records and the extra paths.

* ``health_path`` (e.g. ``"/health"``): ``GET`` answers ``200 {"status": "ok"}``, with no
  check of its own. Every check added to :class:`Health` (``app.health.add(check)``, a
  callable returning whether a dependency, a deliveries store say, is reachable) must pass,
  else the answer is ``503 {"status": "unavailable"}``.
* ``metrics_path`` (e.g. ``"/metrics"``): ``GET`` answers the Prometheus metrics (see
  :mod:`.metrics`).

Both paths are relative to where the webhook is mounted, like its own ``/``.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional

import falcon

from . import errors
from .errors import qualified_name
from .pipeline import MOUNT_PATH
from .rejection import Rejection

logger = logging.getLogger("clustaar.webhook")

#: An endpoint's answer: status, content type, body.
Answer = tuple[int, str, bytes]
_GET_ONLY = Rejection(405, "Method Not Allowed", "This endpoint only answers GET requests.",
                      {"Allow": "GET, HEAD"})


def endpoint_path(name: str, value: Any) -> Optional[str]:
    """``None`` or a path such as ``"/health"`` (not the webhook's own ``/``)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/") or value == MOUNT_PATH:
        raise ValueError(f"{name} must be None or a path such as '/health' (not '/', the "
                         f"webhook's own), not {value!r}")
    return value


class Health:
    """The health endpoint's checks: all must return true for ``200 {"status": "ok"}``."""

    def __init__(self) -> None:
        self.checks: list[Callable[[], bool]] = []

    def add(self, check: Callable[[], bool]) -> Callable[[], bool]:
        """Make ``check()`` part of the answer (usable as a decorator)."""
        if not callable(check):
            raise TypeError(f"a health check must be a function returning a bool, not {check!r}")
        self.checks.append(check)
        return check

    def healthy(self) -> bool:
        """Whether every check passes; one that raises counts as failing (logged)."""
        for check in self.checks:
            try:
                if not check():
                    return False
            except Exception:
                logger.warning("health check %s raised", qualified_name(check), exc_info=True)
                return False
        return True

    def answer(self) -> Answer:
        ok = self.healthy()
        body = json.dumps({"status": "ok" if ok else "unavailable"}).encode()
        return (200 if ok else 503), falcon.MEDIA_JSON, body


class Endpoints:
    """The extra ``GET`` paths, answered by the apps' sink before the webhook's checks."""

    def __init__(self) -> None:
        self._paths: dict[str, Callable[[], Answer]] = {}

    def add(self, path: str, answer: Callable[[], Answer]) -> None:
        if path in self._paths:
            raise ValueError(f"health_path and metrics_path must differ, both are {path!r}")
        self._paths[path] = answer

    def __contains__(self, path: str) -> bool:
        return path in self._paths

    def serve(self, req: Any, resp: Any) -> None:
        """Answer ``req`` (whose path is one of ours)."""
        with errors.answering(req, resp):
            if req.method not in ("GET", "HEAD"):
                raise _GET_ONLY
            status, content_type, body = self._paths[req.path]()
            resp.status = falcon.code_to_http_status(status)
            resp.content_type = content_type
            resp.data = body
            resp.set_header("Cache-Control", "no-store")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def announce(settings: Any, endpoints: dict[str, Optional[str]],
             store: Optional[str] = None) -> None:
    """The start-up records: one INFO listing what is enabled, and a WARNING without a key
    (both with the ``extra`` field ``startup=True``)."""
    enabled = []
    if settings.private_keys:
        enabled.append(f"signature with {_plural(len(settings.private_keys), 'key')}")
    if settings.credentials:
        enabled.append("Basic auth")
    if settings.request_max_age is not None:
        enabled.append(f"replay window {settings.request_max_age:g} s")
    if settings.max_body_size is not None:
        enabled.append(f"body limit {settings.max_body_size} bytes")
    if settings.deadline is not None:
        enabled.append(f"deadline {settings.deadline:g} s")
    if store is not None:
        enabled.append(store)
    enabled.extend(f"{name} at {path}" for name, path in endpoints.items() if path)
    logger.info("webhook started with %s", ", ".join(enabled) or "nothing enabled",
                extra={"startup": True, "enabled": enabled})
    if not settings.private_keys:
        logger.warning("no private_key is set: the signature of notifications is not checked, "
                       "so requests are not authenticated", extra={"startup": True})
