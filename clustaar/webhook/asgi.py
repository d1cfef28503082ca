"""``AsyncWebhook``: the ASGI 3 app (``uvicorn mybot:app``, mounted in Starlette/FastAPI)."""
from __future__ import annotations

from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable

import falcon.asgi

from . import errors
from .application import WebhookBase
from .body import declared_length, read_asgi
from .exchange import Exchange
from .messages import AsyncRequest, AsyncResponse
from .pipeline import MOUNT_PATH, check_target

#: The ASGI 3 callable's arguments (as Starlette and uvicorn type them).
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AsyncWebhook(WebhookBase):
    """An ASGI application that verifies, routes and answers Clustaar notifications.

    ``async def`` handlers are awaited; plain ones run in a pool of ``max_threads`` threads.
    """

    def _falcon_app(self) -> falcon.asgi.App[AsyncRequest, AsyncResponse]:
        middleware: list[Any] = [*self.settings.middlewares, _Lifespan(self)]
        app = falcon.asgi.App(middleware=middleware, request_type=AsyncRequest,
                              response_type=AsyncResponse)
        errors.install(app)
        # Falcon types sinks for WebSockets too (no response): ours only serves HTTP.
        app.add_sink(self._respond, MOUNT_PATH)  # type: ignore[arg-type]
        return app

    async def _respond(self, req: AsyncRequest, resp: AsyncResponse, **params: str) -> None:
        if req.path in self.endpoints:
            self.endpoints.serve(req, resp)
            return
        with errors.answering(req, resp, self.outcomes) as seen:
            check_target(req.path, req.method)
            limit = self.settings.max_body_size
            # Checked before req.stream exists: Falcon would parse the header its own way.
            length = declared_length(req.get_header("Content-Length"), limit)
            body = await read_asgi(req.stream, length, limit)
            seen.exchange = exchange = Exchange(req, resp, req.get_header, body)
            await self.pipeline.handle_async(exchange)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI 3 entry point (HTTP and lifespan)."""
        await self._app(_below_root(scope), receive, send)


def _below_root(scope: Scope) -> Scope:
    """The scope with ``path`` below the mount point, as ``request.path`` is on WSGI:
    servers and routers (``uvicorn --root-path``, Starlette's ``Mount``) leave
    ``root_path`` at the front of ``path``."""
    root, path = scope.get("root_path", ""), scope.get("path", "")
    if root and path.startswith(root):
        return {**scope, "path": path[len(root):] or MOUNT_PATH}
    return scope


class _Lifespan:
    """Releases the handler thread pool when the server shuts the app down."""

    def __init__(self, webhook: AsyncWebhook) -> None:
        self._webhook = webhook

    async def process_shutdown(self, scope: dict[str, Any], event: dict[str, Any]) -> None:
        self._webhook.pipeline.shutdown()
