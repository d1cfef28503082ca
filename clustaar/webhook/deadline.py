"""Deadlines and the fallback answer: the platform always gets an answer in time.

A :class:`Deadlines` wraps every handler call (it is a pipeline wrapper). With a deadline, a
plain handler runs in the bounded thread pool and a coroutine as a task; when the deadline
passes first, the answer is the fallback (by default what the bot does without a webhook:
the step's own actions and the session, as received) with ``Clustaar-Webhook-Fallback:
deadline``. A late plain handler runs on in its thread, its result dropped and logged; a
late coroutine is cancelled. With ``on_error="fallback"`` a handler's exception answers the
fallback too (``Clustaar-Webhook-Fallback: error``).

The handler writes to a response of its own, copied onto the real one only when it answers
in time, so nothing a late or failed handler does reaches the answer.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import math
import time
from typing import Any, Callable, Optional

from clustaar.schemas.models import StepReachedResponse

from .errors import qualified_name, step_label
from .exchange import Exchange
from .invoke import BoundedPool
from .loading import NotificationLoader
from .payload import parse
from .pipeline import AsyncCall, Call
from .routing import DEFAULT

logger = logging.getLogger("clustaar.webhook")

HEADER = "Clustaar-Webhook-Fallback"
ON_ERROR = ("raise", "fallback")
#: ``fallback(request, notification) -> result``, answered instead of a late handler's.
Fallback = Callable[[Any, Any], Any]


class Deadline:
    """A handler's time budget, from the moment the body was read (``request.context.deadline``)."""

    __slots__ = ("_ends", "seconds")

    def __init__(self, started: float, seconds: Optional[float]) -> None:
        self.seconds = seconds
        self._ends = math.inf if seconds is None else started + seconds

    def remaining(self) -> float:
        """Seconds left (never below 0); ``inf`` without a deadline. Size I/O timeouts on it."""
        return max(0.0, self._ends - time.monotonic())


def step_fallback(request: Any, notification: Any) -> StepReachedResponse:
    """What the bot does without a webhook: the step's actions and the session, as received."""
    return StepReachedResponse(actions=notification.event.step.actions,
                               session=notification.event.session)


def _transplant(source: Any, target: Any) -> None:
    """Copy every attribute of response ``source`` onto ``target`` (slots, then the rest)."""
    for cls in type(source).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            if name in ("__dict__", "__weakref__"):
                continue
            slot = cls.__dict__[name]  # The slot itself, even where a property shadows it.
            try:
                slot.__set__(target, slot.__get__(source, cls))
            except AttributeError:  # Never set on the source.
                pass
    vars(target).update(vars(source))


class Deadlines:
    """The deadline and fallback wrapper of both apps' handler calls."""

    def __init__(self, *, deadline: Optional[float], fallback: Optional[Fallback],
                 on_error: str, pool: BoundedPool, loader: NotificationLoader) -> None:
        self._deadline = deadline
        self._fallback = fallback or step_fallback
        self._on_error = on_error
        self._pool = pool
        self._loader = loader

    def seconds(self, route: Any) -> Optional[float]:
        """The route's own deadline if it has one, else the app's."""
        return self._deadline if route.deadline is DEFAULT else route.deadline

    def _begin(self, exchange: Exchange) -> tuple[Optional[float], Any]:
        seconds = self.seconds(exchange.route)
        exchange.request.context.deadline = Deadline(exchange.received, seconds)
        real = exchange.response
        if seconds is not None or self._on_error == "fallback":
            exchange.response = type(real)(real.options)
        return seconds, real

    def _answer(self, exchange: Exchange, real: Any, result: Any) -> Any:
        if exchange.response is not real:
            _transplant(exchange.response, real)
            exchange.response = real
        return result

    def _answer_fallback(self, exchange: Exchange, real: Any, reason: str) -> Any:
        exchange.response = real
        route = exchange.route
        # The notification as received: the late handler may have changed the one it got.
        notification = self._loader.load(parse(exchange.body))
        result = (route.fallback or self._fallback)(exchange.request, notification)
        real.set_header(HEADER, reason)
        return result

    def fallback(self, exchange: Exchange, reason: str) -> Any:
        """The fallback's result for ``exchange``, its header set to ``reason``."""
        return self._answer_fallback(exchange, exchange.response, reason)

    def _failed(self, exchange: Exchange, real: Any, error: Exception) -> Any:
        if self._on_error != "fallback":
            exchange.response = real
            raise error
        logger.error("handler %s failed for step %s; answered the fallback",
                     qualified_name(exchange.route.handler), _step(exchange), exc_info=error)
        return self._answer_fallback(exchange, real, "error")

    def _late(self, exchange: Exchange, real: Any, seconds: float, why: str) -> Any:
        logger.warning("handler %s %s the %.3g s deadline for step %s; answered the fallback",
                       qualified_name(exchange.route.handler), why, seconds, _step(exchange))
        return self._answer_fallback(exchange, real, "deadline")

    def _unstarted(self, exchange: Exchange, real: Any, seconds: float) -> Any:
        # The handler never ran: a deliveries store keeps nothing, a retry may run it.
        exchange.request.context.handler_skipped = True
        return self._late(exchange, real, seconds, "found no free thread before")

    def wrap(self, call: Call) -> Call:
        """For ``Webhook``: a plain or coroutine handler, in the pool when it has a deadline."""
        def run(exchange: Exchange) -> Any:
            seconds, real = self._begin(exchange)
            if seconds is None:
                try:
                    return self._answer(exchange, real, call(exchange))
                except Exception as error:
                    return self._failed(exchange, real, error)
            future = self._pool.try_submit(contextvars.copy_context().run, call, exchange)
            if future is None:
                return self._unstarted(exchange, real, seconds)
            try:
                result = future.result(timeout=exchange.request.context.deadline.remaining())
            except concurrent.futures.TimeoutError:
                future.add_done_callback(_dropped(exchange, time.monotonic()))
                return self._late(exchange, real, seconds, "did not answer within")
            except Exception as error:
                return self._failed(exchange, real, error)
            return self._answer(exchange, real, result)
        return run

    def wrap_async(self, call: AsyncCall) -> AsyncCall:
        """For ``AsyncWebhook``: a late coroutine is cancelled, a late thread left to end."""
        async def run(exchange: Exchange) -> Any:
            seconds, real = self._begin(exchange)
            if seconds is None:
                try:
                    return self._answer(exchange, real, await call(exchange))
                except Exception as error:
                    return self._failed(exchange, real, error)
            if not exchange.route.is_async and self._pool.full:
                return self._unstarted(exchange, real, seconds)
            task = asyncio.ensure_future(call(exchange))
            remaining = exchange.request.context.deadline.remaining()
            try:
                result = await asyncio.wait_for(asyncio.shield(task), remaining)
            except asyncio.TimeoutError:
                if exchange.route.is_async:
                    task.cancel()
                else:
                    task.add_done_callback(_dropped(exchange, time.monotonic()))
                return self._late(exchange, real, seconds, "did not answer within")
            except Exception as error:
                return self._failed(exchange, real, error)
            return self._answer(exchange, real, result)
        return run


def _step(exchange: Exchange) -> str:
    """The step id, for log lines (an id is no personal data)."""
    return step_label(exchange.data)


def _dropped(exchange: Exchange, since: float) -> Callable[[Any], None]:
    """A callback logging, once the late handler ends, that its answer was dropped."""
    def log(future: Any) -> None:
        late = time.monotonic() - since
        outcome = "raised" if not future.cancelled() and future.exception() else "returned"
        logger.warning("handler %s %s %.3g s after its deadline for step %s; its answer was "
                       "dropped", qualified_name(exchange.route.handler), outcome, late,
                       _step(exchange))
    return log
