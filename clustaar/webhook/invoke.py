"""Running a handler, ``def`` or ``async def``, on either app.

* :class:`SyncInvoker` (``Webhook``): a plain handler is called; a coroutine is run to
  completion on an event loop of the worker thread, kept for the thread's next ones;
* :class:`AsyncInvoker` (``AsyncWebhook``): a coroutine is awaited; a plain handler runs in
  a bounded thread pool with the caller's ``contextvars`` copied, so it never blocks the
  event loop.
"""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

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
            result = loop.run_until_complete(result)
        return result


class AsyncInvoker:
    """Calls handlers for an ASGI app; plain ones in at most ``max_threads`` threads."""

    def __init__(self, max_threads: int) -> None:
        self._max_threads = max_threads
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pid = 0

    def _executor(self) -> ThreadPoolExecutor:
        # A pool made before a fork has no threads in the child: make one per process.
        if self._pool is None or self._pid != os.getpid():
            self._pool = ThreadPoolExecutor(self._max_threads,
                                            thread_name_prefix="clustaar-webhook")
            self._pid = os.getpid()
        return self._pool

    async def __call__(self, exchange: Exchange) -> Any:
        if exchange.route.is_async:
            return await _call(exchange)
        context = contextvars.copy_context()
        result = await asyncio.get_running_loop().run_in_executor(
            self._executor(), context.run, _call, exchange)
        return (await result) if inspect.isawaitable(result) else result

    def shutdown(self) -> None:
        """Let the pool's threads end once their handlers return (at the app's shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
