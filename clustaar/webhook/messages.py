"""The request and response types handlers receive: Falcon's, with what the pipeline adds."""
from __future__ import annotations

from typing import Any, Optional, Union

import falcon


class Request(falcon.Request):
    """A Falcon request that keeps the raw ``body`` and its parsed ``json``.

    Both are set once by the pipeline, so handlers and filters can read them any
    number of times without touching the consumed WSGI stream.
    """

    __slots__ = ("body", "json")

    def __init__(self, env: dict[str, Any], options: Optional[falcon.RequestOptions] = None) -> None:
        super().__init__(env, options)
        self.body: bytes = b""
        self.json: Optional[dict[str, Any]] = None


class Response(falcon.Response):
    """A Falcon response that remembers whether anyone set its status.

    A handler returning ``None`` gets ``204`` only if it set neither status nor
    body; an explicit ``response.status = 200`` must be kept.
    """

    __slots__ = ("_status", "status_set")

    def __init__(self, options: Optional[falcon.ResponseOptions] = None) -> None:
        super().__init__(options)
        self.status_set = False

    @property
    def status(self) -> Union[str, int, Any]:
        return self._status

    @status.setter
    def status(self, value: Union[str, int, Any]) -> None:
        self._status = value
        self.status_set = True

    @property
    def has_body(self) -> bool:
        """Whether text, data, media or a stream was set."""
        return any(part is not None for part in (self.text, self.data, self.media, self.stream))
