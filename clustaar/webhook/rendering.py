"""Step 8 of the pipeline: write a handler's result to the response as JSON, and make sure
what the handler set on the response can be sent at all."""
from __future__ import annotations

import json
import re
from typing import Any

import falcon
import msgspec
from lupin import Mapper

from .dumping import Dumper
from .messages import Response

#: A header field name (RFC 9110 token) and value (visible latin-1, spaces and tabs).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
#: Results the stdlib encoder writes itself, models aside: its own verdict, always.
_NATIVE = frozenset((dict, list, tuple, str, int, float, bool, type(None)))
_STATUS_LINE = re.compile(r"([1-5][0-9][0-9])(?: [\t\x20-\x7e\x80-\xff]*)?")


class InvalidResponse(Exception):
    """The handler left a status, header or body on the response that cannot be sent."""


class Renderer:
    """Serialises handler results; ``clustaar.schemas`` models may sit anywhere in them."""

    def __init__(self, mapper: Mapper) -> None:
        # Compact; ASCII output escapes what UTF-8 cannot carry (a lone surrogate from the
        # request); models are dumped as mapper.dump does (see dumping.py) where met.
        self._encode = json.JSONEncoder(ensure_ascii=True, allow_nan=False,
                                        separators=(",", ":"), default=Dumper(mapper).dump).encode
        self._dump_plain = Dumper(mapper, plain=True).dump
        self._encode_plain = msgspec.json.Encoder().encode

    def render(self, result: Any) -> bytes:
        """``result`` as JSON, or the stdlib encoder's error.

        A model (what handlers return) is dumped as plain JSON and encoded by msgspec, ten
        times faster than the stdlib; anything else, or anything met inside that is not
        plain JSON (NaN, a set, a lone surrogate...), is encoded by the stdlib encoder,
        which decides, so every answer is the one it would give.
        """
        if type(result) not in _NATIVE:
            try:
                return self._encode_plain(self._dump_plain(result))
            except Exception:  # The stdlib encoder below gives the verdict.
                pass
        return self._encode(result).encode()

    def __call__(self, resp: Response, result: Any) -> None:
        """Send ``result`` as JSON; ``None`` keeps what the handler set, or ``204``.

        Raises :class:`InvalidResponse` (or the encoder's error) when the answer cannot be
        sent, so the failure is ours to answer and log, not the server's after we return.
        """
        if result is None:
            if not (resp.status_set or resp.has_body):
                resp.status = falcon.HTTP_204
            elif resp.text is None and resp.data is None and resp.media is not None:
                self._render_media(resp)
            elif resp.stream is not None and callable(getattr(resp.stream, "read", None)):
                _read_stream(resp)
        else:
            resp.data = self.render(result)
            resp.text = None  # Falcon sends text before data: a body the handler set must not win.
            resp.content_type = falcon.MEDIA_JSON
        _check_status(resp.status)
        _check_headers(resp.headers.items())
        if resp.text is not None and type(resp.text) is not str:
            raise InvalidResponse(f"response.text is a {type(resp.text).__name__}, not a str")

    def _render_media(self, resp: Response) -> None:
        """``resp.media`` as strict JSON (no NaN, no sets), as our own answers are."""
        content_type = resp.content_type
        if content_type and not content_type.startswith(falcon.MEDIA_JSON):
            try:  # Another media type: its handler renders it now, while errors are ours.
                # As Falcon's own render_body picks it (it is a coroutine on ASGI).
                handler, _, _ = resp.options.media_handlers._resolve(
                    content_type, resp.options.default_media_type)
                resp.data = handler.serialize(resp.media, content_type)
            except Exception as error:
                raise InvalidResponse(f"response.media cannot be rendered as {content_type}") \
                    from error
            return
        resp.data = self._encode(resp.media).encode()
        resp.content_type = content_type or falcon.MEDIA_JSON


def _read_stream(resp: Response) -> None:
    """A file-like body the handler set, read now: the same on both apps (an ASGI response
    cannot send a plain file object), and a read error is the handler's, not the server's."""
    try:
        data = resp.stream.read()
    except Exception as error:
        raise InvalidResponse("response.stream cannot be read") from error
    if not isinstance(data, bytes):
        raise InvalidResponse(f"response.stream gave {type(data).__name__}, not bytes")
    resp.stream, resp.data = None, data


def _check_status(status: Any) -> None:
    """Raise :class:`InvalidResponse` unless ``status`` is a sendable status, 100 to 599."""
    try:
        line = falcon.code_to_http_status(status)
    except (TypeError, ValueError):
        line = ""
    if not (type(line) is str and _STATUS_LINE.fullmatch(line)):
        raise InvalidResponse(f"response.status {status!r} is not a valid HTTP status")


def _check_headers(headers: Any) -> None:
    """Raise :class:`InvalidResponse` for a header a server could not send or would split."""
    for name, value in headers:
        if not (type(name) is str and _TOKEN.fullmatch(name)):
            raise InvalidResponse(f"header name {name!r} is not a valid field name")
        if not (type(value) is str and _FIELD_VALUE.fullmatch(value)):
            # The value may carry data from the request: only its header's name is told.
            raise InvalidResponse(f"the value of header {name!r} is not valid latin-1 text "
                                  "without control characters")
