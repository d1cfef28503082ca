"""Step 4 of the pipeline: HTTP Basic authentication, compared in constant time."""
from __future__ import annotations

import base64
import binascii
import hmac

from .exchange import Exchange
from .rejection import Rejection


def _forbidden() -> Rejection:
    return Rejection(403, "Invalid credentials", "This call needs authentication")


class BasicAuth:
    """Accept a request only if it carries the configured Basic credentials."""

    def __init__(self, username: str, password: str) -> None:
        self._username = username.encode()
        self._password = password.encode()

    def __call__(self, exchange: Exchange) -> None:
        username, password = _credentials(exchange.header("Authorization") or "")
        # Both sides are always compared, so timing does not tell which was wrong.
        user_ok = hmac.compare_digest(username, self._username)
        password_ok = hmac.compare_digest(password, self._password)
        if not (user_ok & password_ok):
            raise _forbidden()

    def __repr__(self) -> str:
        return "BasicAuth()"


def _credentials(header: str) -> tuple[bytes, bytes]:
    """Split a Basic ``Authorization`` value into user and password (403 if unusable)."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _forbidden()
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # bad base64, non-ASCII token, bad UTF-8
        raise _forbidden() from None
    # Without a colon the password is empty, and a configured one never is: refused.
    username, _, password = decoded.partition(":")
    return username.encode(), password.encode()
