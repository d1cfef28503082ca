"""Error answers: every refusal or failure becomes a logged JSON ``{"title", "description"}``.

Both apps answer through :func:`answering`; errors Falcon itself raises (from middlewares,
say) go the same way through :func:`install`, so no answer is ever HTML or a traceback.
"""
from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Iterator
from typing import Any, Callable, Optional, Protocol

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


class Failed(Exception):
    """User code failed on a notification; the cause is chained. Logged as
    ``<kind> <module.name> failed for step <id>``, with the cause's traceback."""

    kind = "code"

    def __init__(self, function: Any, step: str = "?") -> None:
        super().__init__(function)
        self.function = function
        self.step = step

    def __str__(self) -> str:
        return f"{self.kind} {qualified_name(self.function)} failed for step {self.step}"


class HandlerFailed(Failed):
    """A handler raised, or left an answer that cannot be sent."""

    kind = "handler"

    @property
    def handler(self) -> Any:
        return self.function


class FilterFailed(Failed):
    """A route's filter raised while the route was being chosen."""

    kind = "filter"


def step_label(data: Any) -> str:
    """The notification's step id for log lines, quoted, or ``?`` (an id is no personal data)."""
    inner = data.get("data") if isinstance(data, dict) else None
    step = inner.get("step") if isinstance(inner, dict) else None
    step_id = step.get("id") if isinstance(step, dict) else None
    return _printable(repr(step_id)) if isinstance(step_id, str) else "?"


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
    if isinstance(error, Failed):
        logger.error("%s", error, exc_info=error.__cause__ or error)
    else:
        logger.error("request failed for %s %s", _printable(req.method), _printable(req.path),
                     exc_info=error)
    type(resp).__init__(resp, resp.options)
    _write(resp, _SERVER_ERROR)


class Observer(Protocol):
    """Told about each request :func:`answering` answers (see :mod:`.outcomes`)."""

    def begin(self, req: Any) -> Any:
        """What the adapter fills in (``.exchange``) and :meth:`end` gets back."""

    def end(self, seen: Any, resp: Any, outcome: Optional[str], reason: Optional[str]) -> None:
        """The request was answered: ``outcome`` is ``rejected`` or ``failed`` (with the
        ``reason``), or ``None`` when the pipeline answered."""

    def abandon(self, seen: Any) -> None:
        """The request ended without an answer (cancelled, the client gone)."""


class _Unobserved:
    __slots__ = ("exchange",)


@contextlib.contextmanager
def answering(req: Any, resp: Any, observer: Optional[Observer] = None) -> Iterator[Any]:
    """Turn what the ``with`` block raises into the JSON answer: a refusal, or a ``500``;
    then tell ``observer`` how it ended."""
    seen = _Unobserved() if observer is None else observer.begin(req)
    outcome: Optional[str] = None
    reason: Optional[str] = None
    try:
        yield seen
    except Rejection as rejection:
        reject(req, resp, rejection)
        outcome, reason = "rejected", rejection.title
    except falcon.HTTPError as error:  # A handler's own choice of HTTP error.
        chosen = _from_falcon(error)
        reject(req, resp, chosen)
        outcome, reason = "rejected", chosen.title
    except Exception as error:
        fail(req, resp, error)
        outcome = "failed"
        reason = f"{error.kind} failed" if isinstance(error, Failed) else "request failed"
    except BaseException:  # Cancelled: no answer to record, but the span must end.
        if observer is not None:
            observer.abandon(seen)
        raise
    if observer is not None:
        try:
            observer.end(seen, resp, outcome, reason)
        except Exception:  # Never let the bookkeeping change an answer already written.
            logger.exception("recording the outcome failed")


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
