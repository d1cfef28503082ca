"""``Webhook``: the WSGI app (``gunicorn mybot:app``, ``uwsgi --module mybot:app``)."""
from __future__ import annotations

from typing import Any, Callable

import falcon

from . import errors
from .application import WebhookBase
from .body import read_wsgi
from .exchange import Exchange
from .messages import Request, Response
from .pipeline import MOUNT_PATH, check_target


class Webhook(WebhookBase):
    """A WSGI application that verifies, routes and answers Clustaar notifications.

    ``async def`` handlers run to completion on an event loop of the worker thread.
    """

    def _falcon_app(self) -> falcon.App[Request, Response]:
        app = falcon.App(middleware=list(self.settings.middlewares), request_type=Request,
                         response_type=Response)
        errors.install(app)
        app.add_sink(self._respond, MOUNT_PATH)
        return app

    def _respond(self, req: Request, resp: Response, **params: str) -> None:
        if req.path in self.endpoints:
            self.endpoints.serve(req, resp)
            return
        with errors.answering(req, resp, self.outcomes) as seen:
            check_target(req.path, req.method)
            body = read_wsgi(req.env, self.settings.max_body_size)
            seen.exchange = exchange = Exchange(req, resp, req.get_header, body)
            self.pipeline.handle(exchange)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """WSGI entry point."""
        return self._app(environ, start_response)
