"""Step 1 of the pipeline: read the raw body, never more than the size limit."""
from __future__ import annotations

from typing import IO, Optional

import falcon

from .errors import bad_request

_CHUNK_SIZE = 64 * 1024


def _too_large(limit: int) -> falcon.HTTPContentTooLarge:
    return falcon.HTTPContentTooLarge(
        title="Request body too large",
        description=f"The request body must not exceed {limit} bytes.",
    )


def _unreadable(reason: str) -> falcon.HTTPBadRequest:
    return falcon.HTTPBadRequest(title="Invalid request body",
                                 description=f"The request body could not be read: {reason}.")


def content_length(header: Optional[str]) -> Optional[int]:
    """The declared body length: ``None`` when absent or empty, ``400`` unless ASCII digits.

    ``int()`` would also take ``+5``, `` 5 ``, ``1_0`` and non-ASCII digits, which no HTTP
    peer sends and two parsers could read differently (RFC 9110 §8.6: ``1*DIGIT``).
    """
    if not header:
        return None
    if not (header.isascii() and header.isdigit()):
        bad_request('The value provided for the "Content-Length" header is invalid. '
                    "It must be a number of bytes in ASCII digits.",
                    title="Invalid header value")
    return int(header)


def read_body(req: falcon.Request, limit: Optional[int]) -> bytes:
    """Return the whole body of ``req``, or raise ``413`` past ``limit`` bytes.

    A declared Content-Length over the limit is refused without reading. A body
    sent without one (chunked) is read only when the server says the stream
    ends (``wsgi.input_terminated``), and then in chunks, stopping one byte past
    the limit, so a huge upload never sits in memory. A stream that fails (broken
    chunked framing, a client gone) or ends before the declared length is a ``400``.
    """
    length = content_length(req.env.get("CONTENT_LENGTH"))
    if length is not None and limit is not None and length > limit:
        raise _too_large(limit)
    if length is None and not req.env.get("wsgi.input_terminated"):
        return b""  # Per PEP 3333 reading past the end could block forever.
    try:
        if length is None:
            return _read_until_eof(req.env["wsgi.input"], limit)
        body = req.bounded_stream.read(length) if length else b""
    except falcon.HTTPError:
        raise
    except Exception as error:  # Whatever the server's stream raises: the client's fault.
        # The server's message may quote the client's bytes: log only the error's type.
        raise _unreadable(f"the stream failed ({type(error).__name__})") from None
    if len(body) != length:
        raise _unreadable(f"it ended after {len(body)} of the {length} bytes announced")
    return body


def _read_until_eof(stream: IO[bytes], limit: Optional[int]) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(_CHUNK_SIZE)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if limit is not None and size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
