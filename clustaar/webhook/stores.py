"""Where deliveries are remembered: the interface, and the stores of one process and one host.

A store keeps, for each delivery key, either a claim (a token: the request that runs the
handler) or the answer that request sent. Every method may raise
:class:`StoreUnavailable`; the deliveries wrapper then applies ``on_store_error``.

* :class:`MemoryStore` (``memory://``) — one process: workers of a server do not share it;
* :class:`SqliteStore` (``sqlite:///ABS/PATH``) — every worker of one host, in one file;
* ``RedisStore`` (``redis://HOST:PORT/DB``, see ``redis_store.py``) — many hosts.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable, Optional, Protocol, Union

Clock = Callable[[], float]


class StoreUnavailable(Exception):
    """The store could not be reached or answered with an error."""


@dataclass(frozen=True)
class Answer:
    """What was sent for a delivery: status line, content type and body, byte for byte."""

    status: str
    content_type: Optional[str]
    body: bytes

    def encode(self) -> bytes:
        """One byte string: the status line, the content type, then the body."""
        head = f"{self.status}\n{self.content_type or ''}\n"
        return head.encode("latin-1") + self.body

    @classmethod
    def decode(cls, data: bytes) -> Answer:
        status, content_type, body = data.split(b"\n", 2)
        return cls(status.decode("latin-1"), content_type.decode("latin-1") or None, body)


#: What a claim finds: ``True`` (the key is now ours), ``False`` (another request holds
#: it, still running) or the :class:`Answer` kept for it.
Claimed = Union[bool, Answer]


class DeliveryStore(Protocol):
    """The interface of a store; ``Webhook`` calls the plain methods, ``AsyncWebhook`` the
    ``a``-prefixed coroutines. ``ttl`` is in seconds."""

    def claim(self, key: str, token: str, ttl: float) -> Claimed:
        """Take ``key`` for ``token`` unless it is held or answered (atomically)."""

    def complete(self, key: str, token: str, answer: Answer, ttl: float) -> None:
        """Keep ``answer`` for ``key`` if ``token`` still holds it."""

    def release(self, key: str, token: str) -> None:
        """Forget ``key`` if ``token`` still holds it (the handler failed)."""

    async def aclaim(self, key: str, token: str, ttl: float) -> Claimed: ...

    async def acomplete(self, key: str, token: str, answer: Answer, ttl: float) -> None: ...

    async def arelease(self, key: str, token: str) -> None: ...


class MemoryStore:
    """One process's deliveries, in a dict (``memory://``); expired keys are purged."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        #: key -> (token, answer or None while running, expiry time).
        self._entries: dict[str, tuple[str, Optional[Answer], float]] = {}
        self._next_purge = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def _purge(self, now: float) -> None:
        if now >= self._next_purge:
            self._entries = {key: entry for key, entry in self._entries.items()
                             if entry[2] > now}
            self._next_purge = now + 1.0

    def claim(self, key: str, token: str, ttl: float) -> Claimed:
        now = self._clock()
        with self._lock:
            self._purge(now)
            entry = self._entries.get(key)
            if entry is None or entry[2] <= now:
                self._entries[key] = (token, None, now + ttl)
                return True
            return False if entry[1] is None else entry[1]

    def complete(self, key: str, token: str, answer: Answer, ttl: float) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == token:
                self._entries[key] = (token, answer, self._clock() + ttl)

    def release(self, key: str, token: str) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == token:
                del self._entries[key]

    async def aclaim(self, key: str, token: str, ttl: float) -> Claimed:
        return self.claim(key, token, ttl)

    async def acomplete(self, key: str, token: str, answer: Answer, ttl: float) -> None:
        self.complete(key, token, answer, ttl)

    async def arelease(self, key: str, token: str) -> None:
        self.release(key, token)


_SCHEMA = """CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT PRIMARY KEY, token TEXT NOT NULL, answer BLOB, expires REAL NOT NULL)"""


class _Connections(threading.local):
    connection: Optional[sqlite3.Connection] = None
    pid = 0


def _close_all(connections: list[tuple[int, sqlite3.Connection]]) -> None:
    """Close this process's connections (a parent's, inherited by a fork, are not ours)."""
    for pid, connection in connections:
        if pid == os.getpid():
            connection.close()


class SqliteStore:
    """Every worker of one host, in one SQLite file (``sqlite:///ABS/PATH``).

    WAL journal, a busy timeout, a connection per process (opened after any fork) and per
    thread; the claim is one ``INSERT ... ON CONFLICT DO NOTHING``; expired rows are purged.
    """

    def __init__(self, path: str, *, busy_timeout: float = 2.0, clock: Clock = time.time) -> None:
        if not os.path.isabs(path):
            raise ValueError(f"the SQLite store needs an absolute path, not {path!r}")
        self.path = path
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._local = _Connections()
        self._next_purge = 0.0
        #: Every connection opened, closed with the store (not left to the collector).
        self._opened: list[tuple[int, sqlite3.Connection]] = []
        weakref.finalize(self, _close_all, self._opened)

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if local.connection is None or local.pid != os.getpid():
            connection = sqlite3.connect(self.path, timeout=self._busy_timeout,
                                         isolation_level="IMMEDIATE",
                                         check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(_SCHEMA)
            local.connection, local.pid = connection, os.getpid()
            self._opened.append((local.pid, connection))
        return local.connection

    def claim(self, key: str, token: str, ttl: float) -> Claimed:
        now = self._clock()
        try:
            db = self._connection()
            with db:  # One transaction (BEGIN IMMEDIATE): the expired row goes, the claim is taken.
                if now >= self._next_purge:
                    self._next_purge = now + 1.0
                    db.execute("DELETE FROM deliveries WHERE expires <= ?", (now,))
                else:
                    db.execute("DELETE FROM deliveries WHERE key = ? AND expires <= ?",
                               (key, now))
                taken = db.execute(
                    "INSERT INTO deliveries (key, token, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING", (key, token, now + ttl)).rowcount
                row = None if taken else db.execute(
                    "SELECT answer FROM deliveries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite store {self.path}: {error}") from error
        if taken:
            return True
        return False if row is None or row[0] is None else Answer.decode(bytes(row[0]))

    def complete(self, key: str, token: str, answer: Answer, ttl: float) -> None:
        self._write("UPDATE deliveries SET answer = ?, expires = ? WHERE key = ? AND token = ?",
                    (answer.encode(), self._clock() + ttl, key, token))

    def release(self, key: str, token: str) -> None:
        self._write("DELETE FROM deliveries WHERE key = ? AND token = ?", (key, token))

    def _write(self, statement: str, parameters: tuple[object, ...]) -> None:
        try:
            db = self._connection()
            with db:
                db.execute(statement, parameters)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite store {self.path}: {error}") from error

    # The file may be busy for up to the busy timeout: never on the event loop's thread.
    async def aclaim(self, key: str, token: str, ttl: float) -> Claimed:
        return await asyncio.to_thread(self.claim, key, token, ttl)

    async def acomplete(self, key: str, token: str, answer: Answer, ttl: float) -> None:
        await asyncio.to_thread(self.complete, key, token, answer, ttl)

    async def arelease(self, key: str, token: str) -> None:
        await asyncio.to_thread(self.release, key, token)
