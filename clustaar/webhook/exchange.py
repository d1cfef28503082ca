"""One notification on its way through the pipeline: what the steps read and fill in."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

#: Reads a request header by name, case-insensitively; ``None`` when absent.
HeaderReader = Callable[[str], Optional[str]]


class Exchange:
    """The plain inputs of one request (headers, raw body) and what the steps add to it.

    The framework's request and response objects ride along untouched, for filters and
    handlers: the steps themselves only read :attr:`header` and :attr:`body`.
    """

    __slots__ = ("body", "data", "header", "notification", "outcome", "received", "request",
                 "response", "route")

    def __init__(self, request: Any, response: Any, header: HeaderReader, body: bytes) -> None:
        self.request = request
        self.response = response
        self.header = header
        self.body = body
        #: When the body had been read (``time.monotonic()``): budgets start here.
        self.received = time.monotonic()
        self.data: dict[str, Any] = {}
        self.route: Any = None
        self.notification: Any = None
        #: Set by a wrapper that answers in its own way (``"replayed"``); else worked out
        #: from the answer (see :mod:`.outcomes`).
        self.outcome: Optional[str] = None
