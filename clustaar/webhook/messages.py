"""The request and response types handlers receive: Falcon's (WSGI or ASGI), with what the
pipeline adds. The additions live in two mixins, so both apps' types behave alike."""
from __future__ import annotations

from typing import Any, Union

import falcon
import falcon.asgi


class _Parsed:
    """The raw ``body`` and its parsed ``json``, set once by the pipeline before any filter
    or handler runs, so both can be read any number of times (the stream is consumed)."""

    __slots__ = ()
    body: bytes
    json: dict[str, Any]


class Request(_Parsed, falcon.Request):
    """The request of a :class:`~clustaar.webhook.Webhook` (WSGI)."""

    __slots__ = ("body", "json")


class AsyncRequest(_Parsed, falcon.asgi.Request):
    """The request of an :class:`~clustaar.webhook.AsyncWebhook` (ASGI)."""

    __slots__ = ("body", "json")


class _StatusTracking:
    """Remembers whether anyone set the status: a handler returning ``None`` gets ``204``
    only if it set neither status nor body; an explicit ``response.status = 200`` is kept."""

    __slots__ = ()
    _status: Any
    status_set: bool
    text: Any
    data: Any
    media: Any
    stream: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Falcon's own __init__ set the default status. (The slots are the subclasses'.)
        self.status_set = False  # type: ignore[misc]

    @property
    def status(self) -> Union[str, int, Any]:
        return self._status

    @status.setter
    def status(self, value: Union[str, int, Any]) -> None:
        self._status = value
        self.status_set = True  # type: ignore[misc]

    @property
    def has_body(self) -> bool:
        """Whether text, data, media or a stream was set."""
        return any(part is not None for part in (self.text, self.data, self.media, self.stream))


class Response(_StatusTracking, falcon.Response):
    """The response of a :class:`~clustaar.webhook.Webhook` (WSGI)."""

    __slots__ = ("_status", "status_set")


class AsyncResponse(_StatusTracking, falcon.asgi.Response):
    """The response of an :class:`~clustaar.webhook.AsyncWebhook` (ASGI)."""

    __slots__ = ("_status", "status_set")
