"""Deliveries shared by many hosts, in Redis (``redis://HOST:PORT/DB``).

The claim is ``SET key p<token> NX PX ttl``; completing and releasing are Lua scripts that
compare the token first, so a request only ever changes its own claim. ``Webhook`` uses the
synchronous client (its connection pool is safe across forks); ``AsyncWebhook`` uses
``redis.asyncio``, one client per event loop. Every command has a socket timeout.
"""
from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Any, Optional

import redis
import redis.asyncio

from .stores import Answer, Claimed, StoreUnavailable

PREFIX = "clustaar-webhook:delivery:"
#: Seconds to connect and to wait for any reply before the store counts as unavailable.
TIMEOUT = 2.0

_COMPLETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_PENDING, _ANSWERED = b"p", b"a"


def _found(value: Any) -> Optional[Claimed]:
    """What a key holds: ``None`` (nothing: claim again), ``False`` (running) or the answer."""
    if value is None:
        return None
    return Answer.decode(value[1:]) if value[:1] == _ANSWERED else False


class RedisStore:
    """A deliveries store in Redis; ``url`` as redis-py reads it (``redis://HOST:PORT/DB``)."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT, max_connections: int = 64) -> None:
        self.url = url
        self._options: dict[str, Any] = {
            "socket_timeout": timeout, "socket_connect_timeout": timeout,
            "max_connections": max_connections}
        try:
            self._client = redis.Redis.from_url(url, **self._options)
        except ValueError as error:
            raise ValueError(f"invalid Redis URL {url!r}: {error}") from error
        self._complete = self._client.register_script(_COMPLETE)
        self._release = self._client.register_script(_RELEASE)
        self._async: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[AsyncIterator[Any], Any]] = \
            weakref.WeakKeyDictionary()

    async def _async_client(self) -> Any:
        """The ``redis.asyncio`` client of the running loop (connections belong to one)."""
        loop = asyncio.get_running_loop()
        held = self._async.get(loop)
        if held is None:
            keeper = _keep(redis.asyncio.Redis.from_url(self.url, **self._options))
            held = self._async[loop] = (keeper, await keeper.__anext__())
        return held[1]

    def claim(self, key: str, token: str, ttl: float) -> Claimed:
        try:
            for _ in range(3):
                if self._client.set(PREFIX + key, _PENDING + token.encode(), nx=True,
                                    px=_ms(ttl)):
                    return True
                found = _found(self._client.get(PREFIX + key))
                if found is not None:
                    return found
            return False
        except (redis.RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis store: {error}") from error

    def complete(self, key: str, token: str, answer: Answer, ttl: float) -> None:
        try:
            self._complete(keys=[PREFIX + key], args=[
                _PENDING + token.encode(), _ANSWERED + answer.encode(), _ms(ttl)])
        except (redis.RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis store: {error}") from error

    def release(self, key: str, token: str) -> None:
        try:
            self._release(keys=[PREFIX + key], args=[_PENDING + token.encode()])
        except (redis.RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis store: {error}") from error

    async def aclaim(self, key: str, token: str, ttl: float) -> Claimed:
        client = await self._async_client()
        try:
            for _ in range(3):
                if await client.set(PREFIX + key, _PENDING + token.encode(), nx=True,
                                    px=_ms(ttl)):
                    return True
                found = _found(await client.get(PREFIX + key))
                if found is not None:
                    return found
            return False
        except (redis.RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis store: {error}") from error

    async def acomplete(self, key: str, token: str, answer: Answer, ttl: float) -> None:
        client = await self._async_client()
        try:
            await client.eval(_COMPLETE, 1, PREFIX + key, _PENDING + token.encode(),
                              _ANSWERED + answer.encode(), _ms(ttl))
        except (redis.RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis store: {error}") from error

    async def arelease(self, key: str, token: str) -> None:
        client = await self._async_client()
        try:
            await client.eval(_RELEASE, 1, PREFIX + key, _PENDING + token.encode())
        except (redis.RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis store: {error}") from error

    def close(self) -> None:
        """Close the synchronous client's connections."""
        self._client.close()


async def _keep(client: Any) -> AsyncIterator[Any]:
    """Holds ``client`` for its loop: a loop shutting down (``asyncio.run``, a server's exit)
    closes its async generators, and so the client's connections, while it still runs."""
    try:
        yield client
    finally:
        await client.aclose()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
