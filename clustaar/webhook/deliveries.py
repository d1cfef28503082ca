"""Duplicate deliveries: the handler runs once per delivery, a duplicate gets the first answer.

:class:`Deliveries` is a pipeline wrapper, outside the deadlines. For each notification that
passed every check it computes the delivery key (SHA-256 of the ``Date`` value and the raw
body, or ``delivery_key(request)``) and claims it in the store:

* claimed: the handler runs and its result is rendered here, so what is kept (status,
  content type, body) is exactly what is sent; a handler failure releases the claim;
* already answered: the kept answer, byte for byte, with ``Clustaar-Webhook-Replayed: true``;
* still running elsewhere: wait for its answer (within the deadline, else 10 s), then the
  fallback when there is a deadline, else ``409 Delivery in progress``.

When the store fails, ``on_store_error="accept"`` handles the request without de-duplication
(one WARNING), ``"reject"`` answers ``503 Store unavailable``.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit

from .deadline import HEADER as FALLBACK_HEADER
from .deadline import Deadline, Deadlines
from .exchange import Exchange
from .pipeline import AsyncCall, Call
from .rejection import Rejection
from .rendering import Renderer
from .stores import Answer, Claimed, DeliveryStore, MemoryStore, SqliteStore, StoreUnavailable

logger = logging.getLogger("clustaar.webhook")

HEADER = "Clustaar-Webhook-Replayed"
ON_STORE_ERROR = ("accept", "reject")
#: How long a duplicate waits for the first answer when there is no deadline.
WAIT = 10.0
#: ``delivery_key(request) -> str``.
KeyFunction = Callable[[Any], str]
#: The outcome of a claim the wrapper acts on: claimed, kept answer, running, unguarded.
_UNGUARDED = None
_Outcome = Union[bool, Answer, None]


def open_store(deliveries: Any) -> DeliveryStore:
    """The store a ``deliveries=`` option names: a URL, or a store object as it is."""
    if not isinstance(deliveries, str):
        methods = ("claim", "complete", "release", "aclaim", "acomplete", "arelease")
        if not all(callable(getattr(deliveries, name, None)) for name in methods):
            raise TypeError("deliveries must be a store URL (memory://, sqlite:///ABS/PATH, "
                            f"redis://HOST:PORT/DB) or a store object, not {deliveries!r}")
        return deliveries  # type: ignore[no-any-return]
    scheme = urlsplit(deliveries).scheme
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        path = deliveries[len("sqlite://"):]
        if not path.startswith("/") or path == "/":
            raise ValueError(f"a SQLite store URL is sqlite:///ABS/PATH, not {deliveries!r}")
        return SqliteStore(path)
    if scheme in ("redis", "rediss", "unix"):
        from .redis_store import RedisStore
        return RedisStore(deliveries)
    raise ValueError(f"deliveries must be memory://, sqlite:///ABS/PATH or "
                     f"redis://HOST:PORT/DB, not {deliveries!r}")


def delivery_ttl(value: Any, request_max_age: Optional[float]) -> float:
    """The ttl option checked, or its default: twice the replay window and a minute."""
    if value is None:
        return 600.0 if request_max_age is None else 2 * request_max_age + 60
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"delivery_ttl must be a number of seconds above 0, not {value!r}")
    return float(value)


def default_key(exchange: Exchange) -> str:
    """SHA-256 of the Date value and the raw body: what the signature covers."""
    digest = hashlib.sha256((exchange.header("Date") or "").strip().encode("latin-1", "replace"))
    digest.update(b"\n")
    digest.update(exchange.body)
    return digest.hexdigest()


def capture(response: Any) -> Answer:
    """The rendered answer, as Falcon will send it (text before data)."""
    body = response.text.encode() if response.text is not None else (response.data or b"")
    return Answer(str(response.status), response.content_type, body)


def _pauses(budget: Deadline) -> Iterator[float]:
    """How long a duplicate sleeps before each new claim: 10 ms doubling to 100 ms, never
    past its budget."""
    pause = 0.01
    while budget.remaining() > 0:
        yield min(pause, budget.remaining())
        pause = min(pause * 2, 0.1)


class Deliveries:
    """The duplicate deliveries wrapper of both apps' handler calls."""

    def __init__(self, store: DeliveryStore, *, ttl: float, key: Optional[KeyFunction],
                 on_store_error: str, renderer: Renderer, deadlines: Deadlines) -> None:
        if on_store_error not in ON_STORE_ERROR:
            raise ValueError(f"on_store_error must be 'accept' or 'reject', "
                             f"not {on_store_error!r}")
        if key is not None and not callable(key):
            raise TypeError(f"delivery_key must be a function (request) -> str, not {key!r}")
        self.store = store
        self._ttl = ttl
        self._key = key
        self._on_store_error = on_store_error
        self._render = renderer
        self._deadlines = deadlines
        #: Whether the last store operation succeeded (the health endpoint reports it).
        self.reachable = True
        #: Told each duplicate's kind, ``replayed`` or ``in_progress`` (the metrics).
        self.on_duplicate: Callable[[str], None] = lambda kind: None

    def _key_of(self, exchange: Exchange) -> str:
        if self._key is None:
            return default_key(exchange)
        key = self._key(exchange.request)
        if not isinstance(key, str):
            raise TypeError(f"delivery_key returned {type(key).__name__}, not str")
        return "key:" + key

    def _budget(self, exchange: Exchange) -> tuple[Deadline, bool]:
        seconds = self._deadlines.seconds(exchange.route)
        return Deadline(exchange.received, WAIT if seconds is None else seconds), \
            seconds is not None

    def _store_failed(self, error: Exception) -> None:
        self.reachable = False
        if self._on_store_error == "reject":
            logger.warning("deliveries store unavailable (%s); answered 503", error)
            raise Rejection(503, "Store unavailable",
                            "The deliveries store cannot be reached; send it again later.")
        logger.warning("deliveries store unavailable (%s); handled without de-duplication",
                       error)

    def _replay(self, exchange: Exchange, answer: Answer) -> None:
        exchange.outcome = "replayed"
        self.on_duplicate("replayed")
        response = exchange.response
        response.status = answer.status
        if answer.content_type is not None:
            response.content_type = answer.content_type
        response.text, response.media, response.stream = None, None, None
        response.data = answer.body
        response.set_header(HEADER, "true")

    def _in_progress(self, exchange: Exchange, has_deadline: bool) -> Any:
        self.on_duplicate("in_progress")
        if has_deadline:
            logger.warning("delivery still running elsewhere past the deadline; answered the "
                           "fallback")
            return self._deadlines.fallback(exchange, "deadline")
        raise Rejection(409, "Delivery in progress",
                        "The same delivery is still being handled; send it again later.")

    def _kept(self, exchange: Exchange) -> Optional[Answer]:
        """The answer to keep, or ``None`` when the claim is to be released: an error
        answered by the fallback is a failure, and a handler that found no free thread
        never ran; a retry runs it then."""
        if (exchange.response.get_header(FALLBACK_HEADER) == "error"
                or getattr(exchange.request.context, "handler_skipped", False)):
            return None
        return capture(exchange.response)

    def wrap(self, call: Call) -> Call:
        """For ``Webhook``: the store's plain methods; a duplicate waits in its thread."""
        store = self.store

        def claim(key: str, token: str) -> _Outcome:
            try:
                outcome = store.claim(key, token, self._ttl)
            except Exception as error:  # A store object's own error is unavailability too.
                self._store_failed(error)
                return _UNGUARDED
            self.reachable = True
            return outcome

        def settle(key: str, token: str, kept: Optional[Answer]) -> None:
            try:
                if kept is None:
                    store.release(key, token)
                else:
                    store.complete(key, token, kept, self._ttl)
            except Exception as error:
                logger.warning("deliveries store unavailable (%s); the answer was not kept",
                               error)

        def run(exchange: Exchange) -> Any:
            key, token = self._key_of(exchange), uuid.uuid4().hex
            outcome = claim(key, token)
            if outcome is False:
                budget, has_deadline = self._budget(exchange)
                for pause in _pauses(budget):
                    time.sleep(pause)
                    outcome = claim(key, token)
                    if outcome is not False:
                        break
                if outcome is False:
                    return self._in_progress(exchange, has_deadline)
            if isinstance(outcome, Answer):
                self._replay(exchange, outcome)
                return None
            try:
                self._render(exchange.response, call(exchange))
            except BaseException:
                if outcome:
                    settle(key, token, None)
                raise
            if outcome:
                settle(key, token, self._kept(exchange))
            return None
        return run

    def wrap_async(self, call: AsyncCall) -> AsyncCall:
        """For ``AsyncWebhook``: the store's coroutines; a duplicate waits on the loop."""
        store = self.store

        async def claim(key: str, token: str) -> _Outcome:
            try:
                found: Claimed = await store.aclaim(key, token, self._ttl)
            except Exception as error:
                self._store_failed(error)
                return _UNGUARDED
            self.reachable = True
            return found

        async def settle(key: str, token: str, kept: Optional[Answer]) -> None:
            try:
                if kept is None:
                    await store.arelease(key, token)
                else:
                    await store.acomplete(key, token, kept, self._ttl)
            except Exception as error:
                logger.warning("deliveries store unavailable (%s); the answer was not kept",
                               error)

        async def run(exchange: Exchange) -> Any:
            key, token = self._key_of(exchange), uuid.uuid4().hex
            outcome = await claim(key, token)
            if outcome is False:
                budget, has_deadline = self._budget(exchange)
                for pause in _pauses(budget):
                    await asyncio.sleep(pause)
                    outcome = await claim(key, token)
                    if outcome is not False:
                        break
                if outcome is False:
                    return self._in_progress(exchange, has_deadline)
            if isinstance(outcome, Answer):
                self._replay(exchange, outcome)
                return None
            try:
                self._render(exchange.response, await call(exchange))
            except BaseException:
                if outcome:
                    await settle(key, token, None)
                raise
            if outcome:
                await settle(key, token, self._kept(exchange))
            return None
        return run


__all__ = ["HEADER", "Answer", "Deliveries", "DeliveryStore", "StoreUnavailable", "open_store"]
