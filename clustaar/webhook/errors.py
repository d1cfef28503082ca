"""Error answers: every refusal or failure becomes a logged JSON ``{"title", "description"}``.

Both apps answer through :func:`answering`; errors Falcon itself raises (from middlewares,
say) go the same way through :func:`install`, so no answer is ever HTML or a traceback.
"""
from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Iterator
from typing import Any, Callable

import falcon
import falcon.asgi

from .rejection import Rejection

logger = logging.getLogger("clustaar.webhook")

_SERVER_ERROR = Rejection(500, "Internal Server Error",
                          "The webhook failed to process this notification.")
#: Descriptions for errors Falcon raises without one.
_DEFAULT_DESCRIPTIONS = {
    404: "There is no webhook at this path.",
    405: "This webhook only accepts POST requests.",
}


class HandlerFailed(Exception):
    """A handler raised, or left an answer that cannot be sent; the cause is chained."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        super().__init__(f"handler {qualified_name(handler)} failed")


def qualified_name(function: Any) -> str:
    """``module.qualname`` of a handler, else its type's (for callable objects)."""
    named = function if hasattr(function, "__qualname__") else type(function)
    return f"{getattr(named, '__module__', '?')}.{named.__qualname__}"


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so a request cannot forge log lines."""
    return text if text.isprintable() else repr(text)[1:-1]


def _write(resp: Any, rejection: Rejection) -> None:
    resp.status = falcon.code_to_http_status(rejection.status)
    resp.data = json.dumps({"title": rejection.title,
                            "description": rejection.description}).encode()
    resp.text = None
    resp.media = None
    resp.content_type = falcon.MEDIA_JSON
    for name, value in rejection.headers.items():
        resp.set_header(name, value)


def reject(req: Any, resp: Any, rejection: Rejection) -> None:
    """Answer ``rejection`` and log it: one WARNING per refused request."""
    # The description never carries secrets, signatures or body content.
    logger.warning("rejected %s %s with status %d (%s): %s", _printable(req.method),
                   _printable(req.path), rejection.status, rejection.title,
                   rejection.description)
    _write(resp, rejection)


def fail(req: Any, resp: Any, error: BaseException) -> None:
    """Log an unexpected exception with its traceback and answer a bare ``500``.

    Nothing a failed handler set on the response (headers, status, body) is sent: one of
    them may be what failed.
    """
    cause = error.__cause__ if isinstance(error, HandlerFailed) else None
    logger.error("%s for %s %s", error if cause else "request failed", _printable(req.method),
                 _printable(req.path), exc_info=cause or error)
    type(resp).__init__(resp, resp.options)
    _write(resp, _SERVER_ERROR)


@contextlib.contextmanager
def answering(req: Any, resp: Any) -> Iterator[None]:
    """Turn what the ``with`` block raises into the JSON answer: a refusal, or a ``500``."""
    try:
        yield
    except Rejection as rejection:
        reject(req, resp, rejection)
    except falcon.HTTPError as error:  # A handler's own choice of HTTP error.
        reject(req, resp, _from_falcon(error))
    except Exception as error:
        fail(req, resp, error)


def _from_falcon(error: falcon.HTTPError) -> Rejection:
    description = error.description or _DEFAULT_DESCRIPTIONS.get(error.status_code, error.title)
    return Rejection(error.status_code, error.title, description, dict(error.headers or {}))


def _falcon_error(req: Any, resp: Any, error: falcon.HTTPError, params: Any) -> None:
    reject(req, resp, _from_falcon(error))


def _python_error(req: Any, resp: Any, error: Exception, params: Any) -> None:
    fail(req, resp, error)


def _coroutine(handler: Callable[..., None]) -> Callable[..., Awaitable[None]]:
    async def handle(req: Any, resp: Any, error: Any, params: Any, **more: Any) -> None:
        handler(req, resp, error, params)
    return handle


def install(app: Any) -> None:
    """Answer the errors Falcon raises outside our pipeline (from a middleware, say) as ours,
    on a ``falcon.App`` or, as coroutines, on a ``falcon.asgi.App``."""
    for error, handler in ((Exception, _python_error), (falcon.HTTPError, _falcon_error)):
        app.add_error_handler(error, _coroutine(handler) if isinstance(app, falcon.asgi.App)
                              else handler)
