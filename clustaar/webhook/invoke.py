"""Running a handler, ``def`` or ``async def``, on either app.

* :class:`SyncInvoker` (``Webhook``): a plain handler is called; a coroutine is run to
  completion on an event loop of the worker thread, kept for the thread's next ones;
* :class:`AsyncInvoker` (``AsyncWebhook``): a coroutine is awaited; a plain handler runs in
  the app's :class:`BoundedPool` with the caller's ``contextvars`` copied, so it never
  blocks the event loop (the deadlines run plain handlers there too).
"""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import math
import os
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Optional

from .exchange import Exchange


def _call(exchange: Exchange) -> Any:
    return exchange.route.handler(exchange.request, exchange.response, exchange.notification)


class _ThreadLoop(threading.local):
    """One event loop per worker thread, built on first use (after any fork)."""

    loop: Optional[asyncio.AbstractEventLoop] = None


class SyncInvoker:
    """Calls handlers for a WSGI app; coroutine results are run to completion."""

    def __init__(self) -> None:
        self._local = _ThreadLoop()

    def __call__(self, exchange: Exchange) -> Any:
        result = _call(exchange)
        if inspect.isawaitable(result):
            loop = self._local.loop
            if loop is None or loop.is_closed():
                loop = self._local.loop = asyncio.new_event_loop()
                # Closed when the thread is gone (or at exit), not left to the collector.
                weakref.finalize(threading.current_thread(), loop.close)
            deadline = getattr(exchange.request.context, "deadline", None)
            left = math.inf if deadline is None else deadline.remaining()
            # A coroutine past its deadline is cancelled, on this app as on the ASGI one.
            result = loop.run_until_complete(
                result if left == math.inf else asyncio.wait_for(result, left))
        return result


class BoundedPool:
    """At most ``max_threads`` handler threads, made per process (after any fork), and
    whether all of them are busy right now."""

    def __init__(self, max_threads: int) -> None:
        self.max_threads = max_threads
        self._executor: Optional[ThreadPoolExecutor] = None
        self._pid = 0
        self._busy = 0
        self._lock = threading.Lock()

    @property
    def full(self) -> bool:
        return self._busy >= self.max_threads

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None or self._pid != os.getpid():
            self._executor = ThreadPoolExecutor(self.max_threads,
                                                thread_name_prefix="clustaar-webhook")
            self._pid = os.getpid()
        return self._executor

    def _release(self, future: Future[Any]) -> None:
        with self._lock:
            self._busy -= 1

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``function(*args)`` in a thread; it waits for one when all are busy."""
        with self._lock:
            self._busy += 1
            future = self._pool().submit(function, *args)
        future.add_done_callback(self._release)
        return future

    def try_submit(self, function: Callable[..., Any], *args: Any) -> Optional[Future[Any]]:
        """Like :meth:`submit`, but ``None`` at once when every thread is busy."""
        with self._lock:
            if self._busy >= self.max_threads:
                return None
            self._busy += 1
            future = self._pool().submit(function, *args)
        future.add_done_callback(self._release)
        return future

    def shutdown(self) -> None:
        """Let the threads end once their handlers return (at the app's shutdown)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None


class AsyncInvoker:
    """Calls handlers for an ASGI app; plain ones in the app's :class:`BoundedPool`."""

    def __init__(self, pool: BoundedPool) -> None:
        self._pool = pool

    async def __call__(self, exchange: Exchange) -> Any:
        if exchange.route.is_async:
            return await _call(exchange)
        context = contextvars.copy_context()
        result = await asyncio.wrap_future(self._pool.submit(context.run, _call, exchange))
        return (await result) if inspect.isawaitable(result) else result
