"""Serve WSGI applications under URL prefixes, in one process, with nothing but WSGI.

Copy this file into your project. ``mount({"/clustaar": bot.app}, default=site)``
sends ``/clustaar`` and everything below it to the bot, with ``SCRIPT_NAME`` and
``PATH_INFO`` moved as the WSGI specification says, so the bot sees its own mount
path as ``/``; every other path goes to ``default`` (your Django or other site), or
gets a plain ``404 Not Found`` when there is none.

Used by itself (``mount({"/bot": bot.app})`` served by gunicorn without
``SCRIPT_NAME``), it keeps a bot under a prefix and answers other paths with a clean
``404`` instead of gunicorn's configuration error.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional

#: The WSGI ``start_response`` callable and a WSGI application.
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def not_found(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Answer ``404 Not Found`` in plain text."""
    body = b"Not Found\n"
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                     ("Content-Length", str(len(body)))])
    return [body]


def mount(mounts: Mapping[str, WSGIApp], default: Optional[WSGIApp] = None) -> WSGIApp:
    """A WSGI application sending each prefix of ``mounts`` to its application.

    A prefix starts with ``/`` and does not end with one; it matches whole path
    segments (``/bot`` matches ``/bot`` and ``/bot/x``, not ``/botany``), and the
    longest matching prefix wins.
    """
    for prefix in mounts:
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError(f"a mount prefix starts with '/' and does not end with one: {prefix!r}")
    ordered = sorted(mounts.items(), key=lambda item: len(item[0]), reverse=True)
    fallback = default or not_found

    def dispatch(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        for prefix, app in ordered:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix):]
                return app(environ, start_response)
        return fallback(environ, start_response)

    return dispatch
