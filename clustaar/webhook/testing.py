"""Test kit for bot authors: build, sign and send notifications without the platform.

* :func:`notification` builds a realistic ``conversation.step_reached`` notification;
* :func:`sign` computes the ``X-Hub-Signature`` value the platform would send;
* :class:`TestClient` posts to a webhook through the whole pipeline, with a fresh
  Date, signature and Basic credentials;
* :func:`route` tells which route a notification reaches (topic, then filters);
* :func:`call` runs one handler directly, with the arguments the framework builds.

The builders live in :mod:`clustaar.webhook.platform` and are re-exported here.
Everything runs on Falcon's own test helpers: no extra package is needed.
"""
from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Mapping
from typing import Any, Optional, Protocol, Union

import falcon.testing

from .deadline import Deadline, step_fallback
from .loading import NotificationLoader
from .messages import Request, Response
from .payload import parse
from .platform import (
    DEFAULT_BOT_ID,
    DEFAULT_INTERLOCUTOR_ID,
    DEFAULT_STEP_ID,
    Payload,
    basic_auth,
    dump,
    encode,
    http_date,
    notification,
    platform_headers,
    sign,
)
from .replay import Clock
from .routing import Handler, Route, Router

__all__ = [
    "DEFAULT_BOT_ID",
    "DEFAULT_INTERLOCUTOR_ID",
    "DEFAULT_STEP_ID",
    "Answer",
    "Payload",
    "TestClient",
    "WebhookApp",
    "basic_auth",
    "call",
    "dump",
    "encode",
    "fallback",
    "http_date",
    "notification",
    "platform_headers",
    "route",
    "sign",
]

_LOADER = NotificationLoader()


class WebhookApp(Protocol):
    """What the kit reads of a webhook: its secrets, clock and routes, and its WSGI or ASGI entry."""

    @property
    def private_keys(self) -> tuple[str, ...]: ...
    @property
    def credentials(self) -> Optional[tuple[str, str]]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def router(self) -> Router: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class Answer(falcon.testing.Result):
    """The webhook's answer: Falcon's ``Result``, also under the names webtest's response used.

    ``status`` is the status line (``"200 OK"``), ``status_code`` and
    ``status_int`` its number; ``json`` is the parsed body (``None`` when empty),
    ``content`` and ``body`` its bytes, ``text`` its text, ``headers`` a
    case-insensitive dict.
    """

    def __init__(self, result: falcon.testing.Result) -> None:
        # Falcon builds a Result from the raw WSGI or ASGI answer only: take over its state.
        vars(self).update(vars(result))

    @property
    def status_int(self) -> int:
        """The status code, as webtest named it."""
        return self.status_code

    @property
    def body(self) -> bytes:
        """The raw body, as webtest named it."""
        return self.content


class TestClient:
    """Sends notifications to a webhook the way the platform does.

    The client reads the webhook's configuration: it signs with its (first)
    private key, authenticates with its Basic credentials and dates requests
    with its clock, so a webhook built with a fixed ``clock`` accepts them.
    Requests go through ``falcon.testing.simulate_request``, which serves WSGI
    and ASGI applications alike (and checks WSGI answers with ``wsgiref.validate``).
    """

    __test__ = False  # Not a test class, whatever pytest thinks of the name.

    def __init__(self, webhook: WebhookApp) -> None:
        self.app = webhook
        self.private_key = webhook.private_keys[0] if webhook.private_keys else None
        self.credentials = webhook.credentials
        self.clock = webhook.clock

    def send(self, payload: Payload, *, sign: Union[bool, str] = True,
             auth: Union[bool, tuple[str, str]] = True, date: Optional[str] = "now",
             headers: Optional[Mapping[str, str]] = None, path: str = "/") -> Answer:
        """POST ``payload`` and return the :class:`Answer`, whatever its status.

        ``sign``: ``True`` signs with the webhook's key (if it has one), a string
        signs with that key, ``False`` sends no signature. ``auth``: ``True`` uses
        the webhook's credentials (if any), a ``(user, password)`` pair those,
        ``False`` none. ``date``: ``"now"`` per the webhook's clock, ``None`` no
        Date header, or the exact header value. ``headers`` are sent last and win,
        e.g. ``{"X-Hub-Signature": "sha1=..."}``; the signature covers their Date.
        """
        body = encode(payload)
        when = http_date(self.clock()) if date == "now" else date
        credentials = self.credentials if auth is True else (auth or None)
        key = self.private_key if sign is True else (sign or None)
        sent = platform_headers(body, private_key=key, credentials=credentials, date=when,
                                extra=headers)
        return Answer(falcon.testing.simulate_request(self.app, "POST", path, headers=sent,
                                                      body=body))


def _request(payload: Payload) -> tuple[Request, dict[str, Any]]:
    """The request handlers and filters get for ``payload``, and its parsed JSON.

    Invalid JSON raises the :class:`~clustaar.webhook.rejection.Rejection` the pipeline
    answers with a ``400``.
    """
    body = encode(payload)
    environ = falcon.testing.create_environ(
        method="POST", path="/", body=body, headers={"Content-Type": "application/json"})
    request = Request(environ)
    request.body = body
    request.json = data = parse(body)
    return request, data


def route(app: WebhookApp, payload: Payload) -> Optional[Route]:
    """The route ``payload`` reaches in ``app``: the first of its topic whose filters accept it.

    ``None`` when none does (the platform would get a ``404``). No check and no
    handler runs, so routing is testable on its own:
    ``assert route(app, notification(step_id=WELCOME)).handler is welcome``.
    """
    request, data = _request(payload)
    return app.router.find(data["topic"], request)


def call(handler: Handler, payload: Payload, *, deadline: Optional[float] = None) -> Any:
    """Run ``handler`` on ``payload`` as the pipeline would, bypassing HTTP, checks and filters.

    ``request.context.deadline.remaining()`` counts down from ``deadline`` seconds (``inf``
    without one), so a handler sizing its timeouts on it can be tested.

    The request has ``body`` and ``json`` set, the response is fresh and the
    notification is loaded by the framework's loader; invalid JSON raises the
    :class:`~clustaar.webhook.rejection.Rejection` answered as a ``400``, an unloadable
    notification its ``LoadError`` naming the field. Returns what the handler returns; an
    ``async def`` handler is run to completion first (in a test that is itself a
    coroutine, ``await handler(...)`` directly instead).
    """
    request, data = _request(payload)
    request.context.deadline = Deadline(time.monotonic(), deadline)
    result = handler(request, Response(), _LOADER.load(data))
    if inspect.isawaitable(result):
        result = asyncio.run(_completed(result))
    return result


def fallback(app: Any, payload: Payload) -> Any:
    """What ``app`` answers for ``payload`` when its handler is late (or fails, with
    ``on_error="fallback"``): the route's ``fallback``, else the app's, else the step's
    own actions and session. ``None`` when no route accepts the notification."""
    found = route(app, payload)
    if found is None:
        return None
    request, data = _request(payload)
    answer = found.fallback or app.settings.fallback or step_fallback
    return answer(request, _LOADER.load(data))


async def _completed(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
