"""Error answers: every rejection becomes a logged JSON ``{"title", "description"}``.

Falcon's own errors (404 for other paths, 405 for other methods) go through the
same path, so no answer is ever HTML or a traceback.
"""
from __future__ import annotations

import json
import logging
from typing import Any, NoReturn

import falcon

logger = logging.getLogger("clustaar.webhook")

#: Descriptions for errors Falcon raises without one (routing, methods).
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


def bad_request(description: str, title: str = "400 Bad Request") -> NoReturn:
    """Reject the request with a ``400``."""
    raise falcon.HTTPBadRequest(title=title, description=description)


def invalid_notification(path: str, reason: str) -> NoReturn:
    """Reject a notification whose field at the dotted ``path`` is unusable."""
    bad_request(f'The field "{path}" {reason}.', title="Invalid notification")


def serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Write any HTTP error as JSON, whatever the client accepts."""
    body = {"title": error.title, "description": _description(error)}
    resp.data = json.dumps(body).encode()
    resp.content_type = falcon.MEDIA_JSON


def _description(error: falcon.HTTPError) -> str:
    """The error's description, or ours for the errors Falcon raises without one."""
    return error.description or _DEFAULT_DESCRIPTIONS.get(error.status_code, error.title)


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so a request cannot forge log lines."""
    return text if text.isprintable() else repr(text)[1:-1]


def log_rejection(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError,
                  params: dict[str, Any]) -> NoReturn:
    """Log one WARNING per rejected request, then let Falcon answer it."""
    # The description never carries secrets, signatures or body content.
    logger.warning(
        "rejected %s %s with status %d (%s): %s", _printable(req.method), _printable(req.path),
        error.status_code, error.title, _description(error),
    )
    raise error


def log_failure(req: falcon.Request, resp: falcon.Response, error: Exception,
                params: dict[str, Any]) -> NoReturn:
    """Log an unexpected exception with its traceback and answer a bare ``500``.

    Nothing a failed handler set on the response (headers, status, body) is sent: one of
    them may be what failed.
    """
    cause = error.__cause__ if isinstance(error, HandlerFailed) else None
    logger.error("%s for %s %s", error if cause else "request failed", _printable(req.method),
                 _printable(req.path), exc_info=cause or error)
    type(resp).__init__(resp, resp.options)
    raise falcon.HTTPInternalServerError(
        title="Internal Server Error",
        description="The webhook failed to process this notification.",
    )


def install(app: falcon.App[Any, Any]) -> None:
    """Route every error of ``app`` through our logging and JSON serialiser."""
    app.set_error_serializer(serialize_error)
    app.add_error_handler(Exception, log_failure)
    app.add_error_handler(falcon.HTTPError, log_rejection)
