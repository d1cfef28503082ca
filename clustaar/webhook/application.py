"""What ``Webhook`` and ``AsyncWebhook`` share: the constructor, routes and the pipeline.

The two apps only add their Falcon app and entry point (see ``webhook.py``, ``asgi.py``).
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, Callable, Optional, TypeVar, overload

from .config import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_THREADS,
    PrivateKey,
    Settings,
    deadline_seconds,
    fallback_function,
)
from .deadline import Deadlines, Fallback
from .deliveries import ON_STORE_ERROR, Deliveries, KeyFunction, open_store
from .deliveries import delivery_ttl as delivery_ttl_of
from .invoke import BoundedPool
from .loading import MAPPER, NotificationLoader
from .operations import Endpoints, Health, announce, endpoint_path
from .outcomes import Outcomes, tracing
from .pipeline import Pipeline, Step, Wrapper
from .rendering import Renderer
from .replay import Clock
from .routing import DEFAULT, Filters, Handler, Route, Router

H = TypeVar("H", bound=Handler)


class WebhookBase:
    """Configuration and route registration of a webhook app (see the two apps)."""

    def __init__(self, auth_username: Optional[str] = None, auth_password: Optional[str] = None,
                 private_key: Optional[PrivateKey] = None,
                 middlewares: Optional[Iterable[Any]] = None,
                 request_max_age: Optional[float] = 10, *,
                 max_body_size: Optional[int] = DEFAULT_MAX_BODY_SIZE,
                 clock: Clock = time.time, max_threads: int = DEFAULT_MAX_THREADS,
                 deadline: Optional[float] = None, fallback: Optional[Fallback] = None,
                 on_error: str = "raise", deliveries: Any = None,
                 delivery_key: Optional[KeyFunction] = None,
                 delivery_ttl: Optional[float] = None, on_store_error: str = "accept",
                 health_path: Optional[str] = None, metrics_path: Optional[str] = None,
                 metrics: Any = None) -> None:
        self.settings = settings = Settings.of(
            auth_username, auth_password, private_key, middlewares, request_max_age,
            max_body_size=max_body_size, clock=clock, max_threads=max_threads,
            deadline=deadline, fallback=fallback, on_error=on_error)
        self.router = Router()
        self.checks: tuple[Step, ...] = tuple(settings.checks())
        loader = NotificationLoader()
        pool = BoundedPool(settings.max_threads)
        deadlines = Deadlines(deadline=settings.deadline, fallback=settings.fallback,
                              on_error=settings.on_error, pool=pool, loader=loader)
        renderer = Renderer(MAPPER)
        wrappers: list[Wrapper] = [deadlines]
        self.deliveries: Optional[Deliveries] = None
        if deliveries is not None:  # Outside the deadlines: a replay runs no handler at all.
            self.deliveries = Deliveries(
                open_store(deliveries), ttl=delivery_ttl_of(delivery_ttl, settings.request_max_age),
                key=delivery_key, on_store_error=on_store_error, renderer=renderer,
                deadlines=deadlines)
            wrappers.append(self.deliveries)
        elif on_store_error not in ON_STORE_ERROR:
            raise ValueError(f"on_store_error must be 'accept' or 'reject', "
                             f"not {on_store_error!r}")
        self.pipeline = Pipeline(checks=self.checks, router=self.router, loader=loader,
                                 renderer=renderer, pool=pool, wrappers=wrappers)
        self._operations(health_path, metrics_path, metrics)
        self._app = self._falcon_app()

    def _operations(self, health_path: Optional[str], metrics_path: Optional[str],
                    metrics: Any) -> None:
        """Health and metrics endpoints, the outcome observer, the start-up records."""
        health_path = endpoint_path("health_path", health_path)
        metrics_path = endpoint_path("metrics_path", metrics_path)
        #: Checks the health endpoint runs (``app.health.add(check)``).
        self.health = Health()
        self.endpoints = Endpoints()
        if metrics is None and metrics_path is not None:
            from .metrics import Metrics  # prometheus_client: only when metrics are on.
            metrics = Metrics()
        #: The :class:`~.metrics.Metrics` recorded, or ``None``.
        self.metrics = metrics
        if health_path is not None:
            self.endpoints.add(health_path, self.health.answer)
        if metrics_path is not None:
            self.endpoints.add(metrics_path, metrics.answer)
        self.outcomes = Outcomes(() if metrics is None else (metrics,), tracing())
        store = None
        if self.deliveries is not None:
            deliveries = self.deliveries
            self.health.add(lambda: deliveries.reachable)  # 503 while the store is down.
            if metrics is not None:
                deliveries.on_duplicate = metrics.duplicate
            store = f"deliveries store {type(deliveries.store).__name__}"
        announce(self.settings, {"health": health_path, "metrics": metrics_path}, store)

    def _falcon_app(self) -> Any:
        """The Falcon app (WSGI or ASGI) whose sink runs :attr:`pipeline`."""
        raise NotImplementedError

    # The settings stay readable (the test kit signs and authenticates with them).
    @property
    def private_keys(self) -> tuple[str, ...]:
        return self.settings.private_keys

    @property
    def credentials(self) -> Optional[tuple[str, str]]:
        return self.settings.credentials

    @property
    def request_max_age(self) -> Optional[float]:
        return self.settings.request_max_age

    @property
    def max_body_size(self) -> Optional[int]:
        return self.settings.max_body_size

    @property
    def clock(self) -> Clock:
        return self.settings.clock

    @overload
    def on(self, event: str, handler: H, filters: Filters = None, *,
           filter: Filters = None, deadline: Any = DEFAULT,
           fallback: Optional[Fallback] = None) -> None: ...

    @overload
    def on(self, event: str, handler: None = None, filters: Filters = None, *,
           filter: Filters = None, deadline: Any = DEFAULT,
           fallback: Optional[Fallback] = None) -> Callable[[H], H]: ...

    def on(self, event: str, handler: Optional[H] = None, filters: Filters = None, *,
           filter: Filters = None, deadline: Any = DEFAULT,
           fallback: Optional[Fallback] = None) -> Optional[Callable[[H], H]]:
        """Route ``event`` notifications to ``handler`` (``def`` or ``async def``) when all
        ``filters`` accept them.

        Without a handler, returns a decorator that registers the function it wraps.
        ``filter=`` is accepted for ``filters`` (an older README used it). ``deadline``
        (seconds, or ``None`` for none) and ``fallback`` override the app's for this route.
        """
        if filter is not None:
            if filters is not None:
                raise TypeError("on() takes filters= or filter=, not both")
            filters = filter
        if deadline is not DEFAULT:
            deadline = deadline_seconds("deadline", deadline)
        options = {"deadline": deadline, "fallback": fallback_function("fallback", fallback)}
        if handler is None:
            def register(func: H) -> H:
                self.router.add(event, func, filters, **options)
                return func
            return register
        self.router.add(event, handler, filters, **options)
        return None

    @property
    def routes(self) -> list[Route]:
        """Every registered route, topic by topic, in registration order."""
        return list(self.router)
