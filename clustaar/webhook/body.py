"""Step 1 of the pipeline: read the raw body, never more than the size limit."""
from __future__ import annotations

from typing import IO, Optional

import falcon

_CHUNK_SIZE = 64 * 1024


def _too_large(limit: int) -> falcon.HTTPContentTooLarge:
    return falcon.HTTPContentTooLarge(
        title="Request body too large",
        description=f"The request body must not exceed {limit} bytes.",
    )


def read_body(req: falcon.Request, limit: Optional[int]) -> bytes:
    """Return the whole body of ``req``, or raise ``413`` past ``limit`` bytes.

    A declared Content-Length over the limit is refused without reading. A body
    sent without one (chunked) is read only when the server says the stream
    ends (``wsgi.input_terminated``), and then in chunks, stopping one byte past
    the limit, so a huge upload never sits in memory.
    """
    length = req.content_length
    if length is not None:
        if limit is not None and length > limit:
            raise _too_large(limit)
        return req.bounded_stream.read(length) if length else b""
    if not req.env.get("wsgi.input_terminated"):
        return b""  # Per PEP 3333 reading past the end could block forever.
    return _read_until_eof(req.env["wsgi.input"], limit)


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
