"""The options both apps take, checked once at start-up, and the checks they enable.

A mistake is refused with a message saying what was expected, never turned into a check
that is silently off or a ``TypeError`` on the first request.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Optional, Union

from .auth import BasicAuth
from .pipeline import Step
from .replay import Clock, ReplayWindow
from .signature import SignatureCheck

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_MAX_THREADS = 32

PrivateKey = Union[str, Sequence[str]]


def _secret(name: str, value: Optional[str]) -> Optional[str]:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{name} must be a non-empty string or None, not {value!r}")
    return value


def _keys(private_key: Optional[PrivateKey]) -> tuple[str, ...]:
    if private_key is None:
        return ()
    if isinstance(private_key, str):
        keys: tuple[Any, ...] = (private_key,)
    elif isinstance(private_key, (list, tuple)):
        keys = tuple(private_key)
    else:
        raise TypeError(f"private_key must be a string, a list or tuple of strings, or None, "
                        f"not {private_key!r}")
    if not keys:
        raise ValueError("private_key must not be an empty list")
    for key in keys:
        _secret("private_key", key)
    return keys


def _middlewares(middlewares: Optional[Iterable[Any]]) -> tuple[Any, ...]:
    if middlewares is None:
        return ()
    try:
        return tuple(middlewares)
    except TypeError:
        raise TypeError(f"middlewares must be a list of Falcon middleware objects or None, "
                        f"not {middlewares!r}") from None


def _seconds(name: str, value: Any) -> Optional[float]:
    """A number of seconds, 0 or more, or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise TypeError(f"{name} must be a number of seconds or None, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be 0 or more seconds, or None; got {value!r}")
    return float(value)


def _count(name: str, value: Any, expected: str = "a whole number above 0") -> int:
    """A whole number above 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be {expected}, not {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return value


def _limit(name: str, value: Any) -> Optional[int]:
    """A whole number above 0, or ``None`` for no limit."""
    return None if value is None else _count(name, value, "a whole number above 0 or None")


def deadline_seconds(name: str, value: Any) -> Optional[float]:
    """A deadline: a number of seconds above 0, or ``None``."""
    seconds = _seconds(name, value)
    if seconds == 0:
        raise ValueError(f"{name} must be above 0 seconds, or None; got {value!r}")
    return seconds


def fallback_function(name: str, value: Any) -> Any:
    """``None`` or a callable ``(request, notification) -> result``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be a function (request, notification) -> answer, "
                        f"not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Validated options of a webhook app; ``checks()`` gives the enabled checks in order."""

    credentials: Optional[tuple[str, str]]
    private_keys: tuple[str, ...]
    middlewares: tuple[Any, ...]
    request_max_age: Optional[float]
    max_body_size: Optional[int]
    clock: Clock
    max_threads: int
    deadline: Optional[float] = None
    fallback: Any = None
    on_error: str = "raise"

    @classmethod
    def of(cls, auth_username: Optional[str], auth_password: Optional[str],
           private_key: Optional[PrivateKey], middlewares: Optional[Iterable[Any]],
           request_max_age: Optional[float], *, max_body_size: Optional[int], clock: Clock,
           max_threads: int, deadline: Optional[float] = None, fallback: Any = None,
           on_error: str = "raise") -> Settings:
        """Check every option; raise ``TypeError``/``ValueError`` naming the mistake."""
        username = _secret("auth_username", auth_username)
        password = _secret("auth_password", auth_password)
        if (username is None) != (password is None):
            raise ValueError("auth_username and auth_password must be given together")
        if not callable(clock):
            raise TypeError(f"clock must be a function returning POSIX seconds, not {clock!r}")
        if on_error not in ("raise", "fallback"):
            raise ValueError(f"on_error must be 'raise' or 'fallback', not {on_error!r}")
        credentials = None if username is None or password is None else (username, password)
        return cls(credentials=credentials, private_keys=_keys(private_key),
                   middlewares=_middlewares(middlewares),
                   request_max_age=_seconds("request_max_age", request_max_age),
                   max_body_size=_limit("max_body_size", max_body_size),
                   clock=clock,
                   max_threads=_count("max_threads", max_threads),
                   deadline=deadline_seconds("deadline", deadline),
                   fallback=fallback_function("fallback", fallback), on_error=on_error)

    def checks(self) -> list[Step]:
        """Only the enabled verifications, in the order the contract gives them."""
        checks: list[Step] = []
        if self.request_max_age is not None:
            checks.append(ReplayWindow(self.request_max_age, self.clock))
        if self.private_keys:
            checks.append(SignatureCheck(self.private_keys))
        if self.credentials:
            checks.append(BasicAuth(*self.credentials))
        return checks
