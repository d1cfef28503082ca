"""The Redis store through the HTTP boundary, on both apps: expiry on Redis's own clock,
claims changed only by their owner, and Redis stopped and restarted under the app."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from support.redis import redis_server
from support.requests import client
from support.servers import notification

from clustaar.webhook import Webhook, events
from clustaar.webhook.redis_store import RedisStore

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
REPLAYED = "Clustaar-Webhook-Replayed"


def post(app: Any, body: bytes, status: int = 200) -> Any:
    return client(app).post("/", body, headers={"Content-Type": "application/json"},
                            status=status)


class Handler:
    """Answers its call count; waits for ``release`` on calls listed in ``slow``."""

    def __init__(self, *slow: int) -> None:
        self.calls = 0
        self.slow = slow
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, request: Any, response: Any, notification: Any) -> Any:
        self.calls += 1
        calls = self.calls
        if calls in self.slow:
            self.started.set()
            self.release.wait(10)
        return {"calls": calls}


def app_for(url: str, handler: Handler, **options: Any) -> Any:
    app = Webhook(request_max_age=None, deliveries=url, **options)
    app.on(STEP, handler)
    return app


def test_an_answer_expires_on_redis_own_clock(redis_url: str) -> None:
    handler = Handler()
    app = app_for(redis_url, handler, delivery_ttl=1)
    body = notification()
    post(app, body)
    assert post(app, body).headers[REPLAYED] == "true"
    time.sleep(1.3)
    assert post(app, body).json == {"calls": 2}


def test_a_claim_taken_over_after_expiry_is_not_overwritten(redis_url: str) -> None:
    handler = Handler(1)
    app = app_for(redis_url, handler, delivery_ttl=0.2)
    body = notification()
    first: list[Any] = []
    thread = threading.Thread(target=lambda: first.append(post(app, body)))
    thread.start()
    assert handler.started.wait(10)
    time.sleep(0.3)  # The first claim has expired: the retry takes it over.
    retry = app_for(redis_url, handler, delivery_ttl=30)
    assert post(retry, body).json == {"calls": 2}
    handler.release.set()
    thread.join(10)
    assert first[0].json == {"calls": 1}  # Its answer is sent, but not kept over the retry's.
    assert post(retry, body).json == {"calls": 2}
    assert post(retry, body).headers[REPLAYED] == "true" and handler.calls == 2


def test_redis_stopped_then_restarted(caplog: pytest.LogCaptureFixture) -> None:
    handler = Handler(1)
    with redis_server() as port:
        url = f"redis://127.0.0.1:{port}/0"
        accept, reject = app_for(url, handler), app_for(url, handler, on_store_error="reject")
        body = notification()
        claimed: list[Any] = []
        thread = threading.Thread(target=lambda: claimed.append(post(accept, body)))
        thread.start()
        assert handler.started.wait(10)
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        handler.release.set()  # Redis is gone while the claimed request runs.
        thread.join(10)
        assert claimed[0].json == {"calls": 1}  # Its answer is not lost.
        assert "the answer was not kept" in caplog.records[-1].getMessage()
        assert post(accept, body).json == {"calls": 2}  # No de-duplication, no 500.
        assert post(reject, body, 503).json["title"] == "Store unavailable"
    with redis_server(port):
        assert post(accept, body).json == {"calls": 3}
        assert post(accept, body).headers[REPLAYED] == "true"
        assert post(reject, body).headers[REPLAYED] == "true" and handler.calls == 3


def test_a_redis_url_is_checked_and_a_store_object_serves_as_well(redis_url: str) -> None:
    with pytest.raises(ValueError):
        Webhook(deliveries="redis://127.0.0.1:notaport/0")
    store = RedisStore(redis_url, timeout=0.5, max_connections=4)
    handler = Handler()
    app = Webhook(request_max_age=None, deliveries=store)
    app.on(STEP, handler)
    body = notification()
    assert post(app, body).json == {"calls": 1}
    assert post(app, body).headers[REPLAYED] == "true" and handler.calls == 1
    store.close()
