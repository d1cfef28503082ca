"""Step 3 of the pipeline: check the ``X-Hub-Signature`` HMAC of the platform."""
from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import NoReturn, Optional

from .exchange import Exchange
from .rejection import invalid_header

HEADER = "X-Hub-Signature"
ALGORITHMS = ("sha1", "sha256", "sha512")


def signed_message(body: bytes, date: Optional[str]) -> bytes:
    """What the platform signs: the Date header (``None`` when absent), then the body.

    WSGI gives headers as latin-1 text, so latin-1 recovers the bytes sent; a
    character it cannot carry never came from a conforming client and only has
    to make the signature fail.
    """
    return b"date=" + str(date).encode("latin-1", "replace") + b"\n" + body


def digest(key: str, body: bytes, date: Optional[str], algorithm: str = "sha1") -> str:
    """Hex HMAC of a request, as the platform computes it."""
    return hmac.new(key.encode(), signed_message(body, date), algorithm).hexdigest()


def _invalid(reason: str) -> NoReturn:
    invalid_header(HEADER, reason)


class SignatureCheck:
    """Accept a request only if it is signed with one of ``keys``."""

    def __init__(self, keys: Sequence[str]) -> None:
        # The HMAC state after absorbing each key, per algorithm: a request only copies it.
        self._macs = {name: tuple(hmac.new(key.encode(), digestmod=name) for key in keys)
                      for name in ALGORITHMS}

    def __call__(self, exchange: Exchange) -> None:
        # A field value never includes surrounding whitespace (RFC 9110 §5.5).
        header = (exchange.header(HEADER) or "").strip()
        if not header:
            _invalid("The request's signature is missing.")
        algorithm, separator, received = header.partition("=")
        if not separator:
            _invalid("The request's signature format is invalid.")
        algorithm = algorithm.strip().lower()
        if algorithm not in self._macs:
            _invalid(
                "The request's signature hash function is invalid "
                f"(should be one of {list(ALGORITHMS)})."
            )
        if not self._matches(algorithm, received, signed_message(exchange.body, exchange.header("Date"))):
            _invalid("The request's signature is invalid.")

    def _matches(self, algorithm: str, received: str, message: bytes) -> bool:
        # compare_digest refuses non-ASCII str, so compare bytes; every key is
        # tried, without stopping at the first match, to keep timing flat.
        received_bytes = received.strip().lower().encode("utf-8", "replace")
        matched = False
        for keyed in self._macs[algorithm]:
            mac = keyed.copy()
            mac.update(message)
            matched |= hmac.compare_digest(mac.hexdigest().encode(), received_bytes)
        return matched

    def __repr__(self) -> str:
        return f"SignatureCheck(keys={len(self._macs[ALGORITHMS[0]])})"
