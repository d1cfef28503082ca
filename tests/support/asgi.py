"""Serve an ASGI app to WSGI test clients, as an ASGI server would serve it.

The whole HTTP-boundary suite is written against WSGI (webtest, raw environs). Running it
on :class:`~clustaar.webhook.AsyncWebhook` through this bridge proves every clause on the
ASGI app with the same assertions: the bridge turns each environ into an HTTP scope and
streams ``wsgi.input`` to the app in ``http.request`` messages, framed as a server frames
them (Content-Length, or a chunked body the server marked as ended, else no body).
"""
from __future__ import annotations

import asyncio
import http
from collections.abc import Iterable
from typing import Any, Callable

from clustaar.webhook import AsyncWebhook

_CHUNK = 64 * 1024


def _scope(environ: dict[str, Any]) -> dict[str, Any]:
    # What no byte can carry (a test's non-latin-1 text) reaches the app as "?".
    headers = [(key[5:].replace("_", "-").lower().encode("latin-1"),
                str(value).encode("latin-1", "replace"))
               for key, value in environ.items() if key.startswith("HTTP_")]
    for key, name in (("CONTENT_TYPE", b"content-type"), ("CONTENT_LENGTH", b"content-length")):
        if environ.get(key):
            headers.append((name, environ[key].encode("latin-1", "replace")))
    root = environ.get("SCRIPT_NAME", "")
    return {"type": "http", "asgi": {"version": "3.0"},
            "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").split("/")[-1],
            "method": environ["REQUEST_METHOD"], "scheme": environ.get("wsgi.url_scheme", "http"),
            "root_path": root, "path": root + (environ.get("PATH_INFO") or ""),
            "raw_path": None, "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
            "headers": headers, "client": ("127.0.0.1", 1),
            "server": (environ.get("SERVER_NAME", "localhost"),
                       int(environ.get("SERVER_PORT") or 80))}


def _receiver(environ: dict[str, Any]) -> Callable[[], Any]:
    """``receive`` for the request: the body in chunks, as far as its framing goes."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    known = length.isdigit() if isinstance(length, str) else False
    left = [int(length) if known else None]
    readable = known or bool(environ.get("wsgi.input_terminated"))
    done = [not readable]

    async def receive() -> dict[str, Any]:
        if done[0]:
            return {"type": "http.request", "body": b"", "more_body": False}
        size = _CHUNK if left[0] is None else min(_CHUNK, left[0])
        try:
            chunk = stream.read(size) if size else b""
        except Exception:  # Broken framing, a client gone: a server tells the app so.
            done[0] = True
            return {"type": "http.disconnect"}
        if left[0] is not None:
            left[0] -= len(chunk)
        done[0] = not chunk or left[0] == 0
        return {"type": "http.request", "body": chunk, "more_body": not done[0]}
    return receive


class ClientGone(Exception):
    """The app sent no answer: it was told the client disconnected."""


class BridgedAsyncWebhook(AsyncWebhook):
    """An ``AsyncWebhook`` that WSGI clients can call: ``app(environ, start_response)``."""

    async def _serve(self, *args: Any) -> None:
        await AsyncWebhook.__call__(self, *args)

    def __call__(self, *args: Any) -> Any:  # type: ignore[override]
        if len(args) == 3:  # Called as ASGI (by a real server): unchanged.
            return super().__call__(*args)
        environ, start_response = args
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        # A loop per request, its leftover tasks cancelled and the loop closed after it.
        asyncio.run(self._serve(_scope(environ), _receiver(environ), send))
        if "status" not in started:
            raise ClientGone
        status = started["status"]
        reason = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ \
            else "Unknown"
        start_response(f"{status} {reason}", [(name.decode("latin-1"), value.decode("latin-1"))
                                              for name, value in started["headers"]])
        body: Iterable[bytes] = [b"".join(chunks)]
        return body
