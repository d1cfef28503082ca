"""The request pipeline, framework-neutral: it only sees an :class:`~.exchange.Exchange`.

The steps before the handler (checks, parsing, routing, loading) are resolved once into a
list; the handler is then called through the :class:`Wrapper` s given (the seam where a
deadline or a deliveries store plugs in), once for each kind of app, and its result is
rendered. The first step that fails raises a :class:`~.rejection.Rejection`.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any, Callable, Protocol

import falcon

from . import payload
from .errors import FilterFailed, HandlerFailed, step_label
from .exchange import Exchange
from .invoke import AsyncInvoker, BoundedPool, SyncInvoker
from .loading import LoadError
from .rejection import Rejection, invalid_notification, no_route, not_allowed, not_found
from .rendering import Renderer
from .routing import Router

#: A step before the handler: reads the exchange, fills it in, or raises a Rejection.
Step = Callable[[Exchange], None]
#: The handler's call, as a wrapper sees it: on ``Webhook``, and on ``AsyncWebhook``.
Call = Callable[[Exchange], Any]
AsyncCall = Callable[[Exchange], Awaitable[Any]]

#: The one path of the webhook, relative to where it is mounted.
MOUNT_PATH = "/"


class Loader(Protocol):
    """Turns the parsed JSON into the notification models, or raises ``LoadError``."""

    def load(self, data: dict[str, Any]) -> Any: ...


class Wrapper(Protocol):
    """Runs around every handler call, in both apps (a deadline, a deliveries store)."""

    def wrap(self, call: Call) -> Call:
        """The call for ``Webhook``, around ``call``."""

    def wrap_async(self, call: AsyncCall) -> AsyncCall:
        """The call for ``AsyncWebhook``, around ``call``."""


def check_target(path: str, method: str) -> None:
    """404 for any other path; then 405 for any method but POST, before any check."""
    if path != MOUNT_PATH:
        raise not_found()
    if method != "POST":
        raise not_allowed()


def _parse(exchange: Exchange) -> None:
    exchange.data = payload.parse(exchange.body)
    exchange.request.body = exchange.body
    exchange.request.json = exchange.data


def _route(router: Router, exchange: Exchange) -> None:
    try:
        exchange.route = router.find(exchange.data["topic"], exchange.request)
    except FilterFailed as error:
        error.step = step_label(exchange.data)
        raise
    if exchange.route is None:
        raise no_route()


def _load(loader: Loader, exchange: Exchange) -> None:
    try:
        exchange.notification = loader.load(exchange.data)
    except LoadError as error:
        invalid_notification(error.path, error.reason)


class Pipeline:
    """Runs one notification through every step in order; the first failure answers.

    ``checks`` holds only the verifications that are enabled, so a disabled check costs
    nothing and nothing is re-decided per request.
    """

    def __init__(self, *, checks: Sequence[Step], router: Router, loader: Loader,
                 renderer: Renderer, pool: BoundedPool, wrappers: Sequence[Wrapper] = ()) -> None:
        self.steps: tuple[Step, ...] = (
            *checks, _parse, functools.partial(_route, router), functools.partial(_load, loader))
        self._render = renderer
        self._pool = pool
        call: Call = SyncInvoker()
        async_call: AsyncCall = AsyncInvoker(pool)
        for wrapper in wrappers:
            call, async_call = wrapper.wrap(call), wrapper.wrap_async(async_call)
        self._call, self._async_call = call, async_call

    def prepare(self, exchange: Exchange) -> None:
        """Run the steps before the handler."""
        for step in self.steps:
            step(exchange)

    def handle(self, exchange: Exchange) -> None:
        """The whole pipeline for ``Webhook``."""
        self.prepare(exchange)
        with _handler_failures(exchange):
            self._render(exchange.response, self._call(exchange))

    async def handle_async(self, exchange: Exchange) -> None:
        """The whole pipeline for ``AsyncWebhook``."""
        self.prepare(exchange)
        with _handler_failures(exchange):
            self._render(exchange.response, await self._async_call(exchange))

    def shutdown(self) -> None:
        """Release the threads handlers ran on."""
        self._pool.shutdown()


@contextlib.contextmanager
def _handler_failures(exchange: Exchange) -> Iterator[None]:
    """What goes wrong in the handler or its rendering is the handler's failure, named so;
    an HTTP error it raises on purpose is answered as such."""
    try:
        yield
    except (Rejection, falcon.HTTPError):
        raise
    except Exception as error:
        raise HandlerFailed(exchange.route.handler, step_label(exchange.data)) from error
