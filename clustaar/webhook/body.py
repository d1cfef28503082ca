"""Step 1 of the pipeline: read the raw body, never more than the size limit.

The limit and the framing rules are shared; only the reading loop differs between a WSGI
stream (:func:`read_wsgi`) and an ASGI one (:func:`read_asgi`).
"""
from __future__ import annotations

from collections.abc import AsyncIterable
from typing import IO, Any, Optional

from .rejection import Rejection, invalid_header

_CHUNK_SIZE = 64 * 1024


def _too_large(limit: int) -> Rejection:
    return Rejection(413, "Request body too large",
                     f"The request body must not exceed {limit} bytes.")


def _unreadable(reason: str) -> Rejection:
    return Rejection(400, "Invalid request body", f"The request body could not be read: {reason}.")


def declared_length(header: Optional[str], limit: Optional[int]) -> Optional[int]:
    """The Content-Length: ``None`` when absent or empty, ``400`` unless ASCII digits,
    ``413`` (without reading anything) past ``limit``.

    ``int()`` would also take ``+5``, `` 5 ``, ``1_0`` and non-ASCII digits, which no HTTP
    peer sends and two parsers could read differently (RFC 9110 §8.6: ``1*DIGIT``).
    """
    if not header:
        return None
    if not (header.isascii() and header.isdigit()):
        invalid_header("Content-Length", "It must be a number of bytes in ASCII digits.")
    length = int(header)
    if limit is not None and length > limit:
        raise _too_large(limit)
    return length


class _Body:
    """Chunks read so far, refused one byte past the limit or short of the declared length."""

    def __init__(self, length: Optional[int], limit: Optional[int]) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._length = length
        self._limit = limit

    @property
    def missing(self) -> int:
        """How many more bytes to ask for (at most one chunk); ``0`` when complete."""
        if self._length is None:
            return _CHUNK_SIZE
        return min(_CHUNK_SIZE, self._length - self._size)

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._limit is not None and self._size > self._limit:
            raise _too_large(self._limit)
        self._chunks.append(chunk)

    def finish(self) -> bytes:
        if self._length is not None and self._size < self._length:
            raise _unreadable(f"it ended after {self._size} of the {self._length} bytes announced")
        body = b"".join(self._chunks)
        return body if self._length is None else body[:self._length]


def _stream_failed(error: Exception) -> Rejection:
    # The server's message may quote the client's bytes: only the error's type is told.
    return _unreadable(f"the stream failed ({type(error).__name__})")


def read_wsgi(environ: dict[str, Any], limit: Optional[int]) -> bytes:
    """The whole body of a WSGI request (``413`` past ``limit``, ``400`` if unreadable).

    A body sent without Content-Length (chunked) is read only when the server says the
    stream ends (``wsgi.input_terminated``): per PEP 3333 reading past the end could
    block forever. It is read in chunks, so a huge upload never sits in memory.
    """
    length = declared_length(environ.get("CONTENT_LENGTH"), limit)
    if length is None and not environ.get("wsgi.input_terminated"):
        return b""
    body = _Body(length, limit)
    stream: IO[bytes] = environ["wsgi.input"]
    try:
        while body.missing:
            chunk = stream.read(body.missing)
            if not chunk:
                break
            body.add(chunk)
    except Rejection:
        raise
    except Exception as error:  # Whatever the server's stream raises: the client's fault.
        raise _stream_failed(error) from None
    return body.finish()


async def read_asgi(chunks: AsyncIterable[bytes], length: Optional[int],
                    limit: Optional[int]) -> bytes:
    """The whole body of an ASGI request whose :func:`declared_length` is ``length``, with a
    running total: the ASGI server bounds nothing when the body is chunked."""
    body = _Body(length, limit)
    try:
        # Read to the stream's end (Falcon's stream stops at Content-Length itself): leaving
        # its generator unfinished costs a clean-up task per request.
        async for chunk in chunks:
            body.add(chunk)
    except Rejection:
        raise
    except Exception as error:
        raise _stream_failed(error) from None
    return body.finish()
