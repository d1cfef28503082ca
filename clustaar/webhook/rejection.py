"""Framework-neutral refusals: every check raises a :class:`Rejection`, an adapter answers it."""
from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn


class Rejection(Exception):
    """A request refused with ``status`` and the JSON ``{"title", "description"}`` answer."""

    def __init__(self, status: int, title: str, description: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, title, description)
        self.status = status
        self.title = title
        self.description = description
        self.headers = dict(headers or {})


def bad_request(description: str, title: str = "400 Bad Request") -> NoReturn:
    """Refuse the request with a ``400``."""
    raise Rejection(400, title, description)


def invalid_header(name: str, reason: str) -> NoReturn:
    """Refuse a request whose header ``name`` has an unusable value (``400``)."""
    bad_request(f'The value provided for the "{name}" header is invalid. {reason}',
                title="Invalid header value")


def invalid_notification(path: str, reason: str) -> NoReturn:
    """Refuse a notification whose field at the dotted ``path`` is unusable."""
    bad_request(f'The field "{path}" {reason}.', title="Invalid notification")


def not_found() -> Rejection:
    """Any path other than the mount path."""
    return Rejection(404, "404 Not Found", "There is no webhook at this path.")


def no_route() -> Rejection:
    """No route of the topic accepts the notification."""
    return Rejection(404, "No route", "No handler accepts this notification.")


def not_allowed() -> Rejection:
    """Any method but POST, decided before any check."""
    return Rejection(405, "405 Method Not Allowed", "This webhook only accepts POST requests.",
                     {"Allow": "POST"})
