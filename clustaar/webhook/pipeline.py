"""The request pipeline of contract §2, as one Falcon sink with its steps resolved up front."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Optional

import falcon

from . import payload
from .body import read_body
from .errors import HandlerFailed, invalid_notification
from .loading import LoadError, NotificationLoader
from .messages import Request, Response
from .rendering import Renderer
from .routing import Router

#: A verification step (replay window, signature, basic auth): raises to reject.
Check = Callable[[Request, bytes], None]


class Pipeline:
    """Runs a POST through every step in order; the first failure answers.

    ``checks`` holds only the verifications that are enabled, so a disabled
    check costs nothing and nothing is re-decided per request.
    """

    def __init__(self, *, max_body_size: Optional[int], checks: Sequence[Check],
                 router: Router, loader: NotificationLoader, renderer: Renderer) -> None:
        self._max_body_size = max_body_size
        self._checks = tuple(checks)
        self._router = router
        self._loader = loader
        self._render = renderer

    def __call__(self, req: Request, resp: Response, **params: str) -> None:
        if req.method != "POST":  # Decided before any check, OPTIONS included.
            raise falcon.HTTPMethodNotAllowed(["POST"])
        body = read_body(req, self._max_body_size)
        for check in self._checks:
            check(req, body)
        req.body = body
        req.json = data = payload.parse(body)
        route = self._router.find(data["topic"], req)
        if route is None:
            raise falcon.HTTPNotFound(
                title="No route", description="No handler accepts this notification.")
        try:
            notification = self._loader.load(data)
        except LoadError as error:
            invalid_notification(error.path, error.reason)
        handler = route.handler
        try:
            self._render(resp, handler(req, resp, notification))
        except falcon.HTTPError:
            raise  # A handler may answer an HTTP error of its own choosing.
        except Exception as error:
            raise HandlerFailed(handler) from error
