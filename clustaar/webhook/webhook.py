"""The ``Webhook`` application: configuration, route registration and the WSGI entry."""
from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, TypeVar, Union, overload

import falcon

from . import errors
from .auth import BasicAuth
from .loading import MAPPER, NotificationLoader
from .messages import Request, Response
from .pipeline import Check, Pipeline
from .rendering import Renderer
from .replay import Clock, ReplayWindow
from .routing import Filters, Handler, Route, Router
from .signature import SignatureCheck

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
_MOUNT_PATH = re.compile(r"/\Z")  # Exactly the mount path; anything below it is a 404.

PrivateKey = Union[str, Sequence[str]]
H = TypeVar("H", bound=Handler)


def _secret(name: str, value: Optional[str]) -> Optional[str]:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{name} must be a non-empty string or None")
    return value


def _keys(private_key: Optional[PrivateKey]) -> tuple[str, ...]:
    if private_key is None:
        return ()
    keys = (private_key,) if isinstance(private_key, str) else tuple(private_key)
    if not keys:
        raise ValueError("private_key must not be an empty list")
    for key in keys:
        _secret("private_key", key)
    return keys


class Webhook:
    """A WSGI application that verifies, routes and answers Clustaar notifications."""

    def __init__(self, auth_username: Optional[str] = None, auth_password: Optional[str] = None,
                 private_key: Optional[PrivateKey] = None,
                 middlewares: Optional[Iterable[Any]] = None,
                 request_max_age: Optional[float] = 10, *,
                 max_body_size: Optional[int] = DEFAULT_MAX_BODY_SIZE,
                 clock: Clock = time.time) -> None:
        username = _secret("auth_username", auth_username)
        password = _secret("auth_password", auth_password)
        if (username is None) != (password is None):
            raise ValueError("auth_username and auth_password must be given together")
        keys = _keys(private_key)
        if request_max_age is not None and request_max_age < 0:
            raise ValueError("request_max_age must be positive or None")
        if max_body_size is not None and max_body_size < 0:
            raise ValueError("max_body_size must be positive or None")

        # Resolved once: only the enabled checks, in the order of contract §2.
        checks: list[Check] = []
        if request_max_age is not None:
            checks.append(ReplayWindow(request_max_age, clock))
        if keys:
            checks.append(SignatureCheck(keys))
        credentials = None if username is None or password is None else (username, password)
        if credentials:
            checks.append(BasicAuth(*credentials))

        # The settings stay readable (the test kit signs and authenticates with them).
        self.private_keys = keys
        self.credentials = credentials
        self.request_max_age = request_max_age
        self.max_body_size = max_body_size
        self.clock = clock
        self.router = Router()
        self.checks = tuple(checks)
        self._app = falcon.App(middleware=list(middlewares or ()),
                               request_type=Request, response_type=Response)
        errors.install(self._app)
        pipeline = Pipeline(max_body_size=max_body_size, checks=checks, router=self.router,
                            loader=NotificationLoader(), renderer=Renderer(MAPPER))
        self._pipeline = pipeline
        self._app.add_sink(pipeline, _MOUNT_PATH)

    @overload
    def on(self, event: str, handler: H, filters: Filters = None, *,
           filter: Filters = None) -> None: ...

    @overload
    def on(self, event: str, handler: None = None, filters: Filters = None, *,
           filter: Filters = None) -> Callable[[H], H]: ...

    def on(self, event: str, handler: Optional[H] = None, filters: Filters = None, *,
           filter: Filters = None) -> Optional[Callable[[H], H]]:
        """Route ``event`` notifications to ``handler`` when all ``filters`` accept them.

        Without a handler, returns a decorator that registers the function it wraps.
        ``filter=`` is accepted for ``filters`` (an older README used it).
        """
        if filter is not None:
            if filters is not None:
                raise TypeError("on() takes filters= or filter=, not both")
            filters = filter
        if handler is None:
            def register(func: H) -> H:
                self.router.add(event, func, filters)
                return func
            return register
        self.router.add(event, handler, filters)
        return None

    @property
    def routes(self) -> list[Route]:
        """Every registered route, topic by topic, in registration order."""
        return list(self.router)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """WSGI entry point."""
        return self._app(environ, start_response)
