"""The stores of one process and one host, through the HTTP boundary on both apps: expiry
on the store's clock, purging, the SQLite file (WAL, a lock held by another process)."""
from __future__ import annotations

import contextlib
import logging
import sqlite3
import subprocess
import sys
import time
from typing import Any

import pytest
from support import NOW
from support.requests import client, http_date, signed_headers
from support.servers import notification

from clustaar.webhook import Webhook, events
from clustaar.webhook.stores import Answer, MemoryStore, SqliteStore

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
REPLAYED = "Clustaar-Webhook-Replayed"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[Any, Clock]:
    clock = Clock()
    if request.param == "memory":
        return MemoryStore(clock=clock), clock
    return SqliteStore(str(tmp_path / "deliveries.db"), clock=clock), clock


def counting_app(**options: Any) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def handler(request: Any, response: Any, notification: Any) -> Any:
        calls.append(1)
        return {"calls": len(calls)}

    app = Webhook(**options)
    app.on(STEP, handler)
    return app, calls


def post(app: Any, body: bytes, status: int = 200) -> Any:
    headers = signed_headers(body, key="k", date=http_date(NOW))
    return client(app).post("/", body, headers=headers, status=status)


def rows(store: Any) -> int:
    if isinstance(store, MemoryStore):
        return len(store)
    with contextlib.closing(sqlite3.connect(store.path)) as db:
        return int(db.execute("SELECT count(*) FROM deliveries").fetchone()[0])


def test_an_answer_is_kept_for_delivery_ttl_then_forgotten(store: tuple[Any, Clock]) -> None:
    deliveries, clock = store
    app, _calls = counting_app(private_key="k", clock=lambda: NOW, deliveries=deliveries,
                              delivery_ttl=60)
    body = notification()
    assert post(app, body).json == {"calls": 1}
    clock.now += 59
    assert post(app, body).headers[REPLAYED] == "true"
    clock.now += 2
    again = post(app, body)
    assert again.json == {"calls": 2} and REPLAYED not in again.headers


def test_the_default_ttl_covers_twice_the_replay_window(store: tuple[Any, Clock]) -> None:
    deliveries, clock = store
    app, _calls = counting_app(private_key="k", clock=lambda: NOW, deliveries=deliveries,
                              request_max_age=10)
    body = notification()
    post(app, body)
    clock.now += 79
    assert post(app, body).headers[REPLAYED] == "true"
    clock.now += 2
    assert post(app, body).json == {"calls": 2}


def test_expired_deliveries_are_purged(store: tuple[Any, Clock]) -> None:
    deliveries, clock = store
    app, _calls = counting_app(private_key="k", clock=lambda: NOW, deliveries=deliveries,
                              delivery_ttl=5)
    for name in ("Ada", "Grace", "Hedy"):
        post(app, notification(name))
    assert rows(deliveries) == 3
    clock.now += 10
    post(app, notification("Barbara"))
    assert rows(deliveries) == 1


def test_the_sqlite_file_is_in_wal_mode_and_shared(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    first, _calls = counting_app(request_max_age=None, deliveries=url)
    second, _ = counting_app(request_max_age=None, deliveries=url)  # Another worker's app.
    body = notification()
    answer = client(first).post("/", body, headers={"Content-Type": "application/json"})
    again = client(second).post("/", body, headers={"Content-Type": "application/json"})
    assert again.body == answer.body and again.headers[REPLAYED] == "true"
    with contextlib.closing(sqlite3.connect(tmp_path / "shared.db")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(30)
"""


def test_a_file_locked_by_another_process_waits_the_busy_timeout(
        tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    path = str(tmp_path / "locked.db")
    SqliteStore(path).release("create", "the table")
    locker = subprocess.Popen([sys.executable, "-c", _LOCK, path], stdout=subprocess.PIPE)
    try:
        assert locker.stdout is not None and locker.stdout.readline() == b"locked\n"
        accept, calls = counting_app(request_max_age=None,
                                     deliveries=SqliteStore(path, busy_timeout=0.3))
        body = notification()
        began = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
            assert client(accept).post("/", body).json == {"calls": 1}
        assert time.monotonic() - began >= 0.3
        assert "without de-duplication" in caplog.records[-1].getMessage()
        reject, _ = counting_app(request_max_age=None, on_store_error="reject",
                                 deliveries=SqliteStore(path, busy_timeout=0.3))
        refused = client(reject).post("/", body, status=503)
        assert refused.json["title"] == "Store unavailable" and calls == [1]
    finally:
        locker.kill()
        locker.wait(10)
        if locker.stdout is not None:
            locker.stdout.close()
    assert client(accept).post("/", body).json == {"calls": 2}  # Unlocked: claimed again.
    assert client(accept).post("/", body).headers[REPLAYED] == "true"


def test_a_kept_answer_survives_its_encoding() -> None:
    answer = Answer("202 Accepted", None, b"\n\x00bytes\nand lines")
    assert Answer.decode(answer.encode()) == answer
    app, _calls = counting_app(request_max_age=None, deliveries="memory://")
    assert client(app).post("/", notification()).json == {"calls": 1}
