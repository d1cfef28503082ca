"""Duplicate deliveries through the HTTP boundary, on both apps and every backend: the
handler runs once, a duplicate gets the first answer byte for byte."""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import pytest
from support.logs import served
from support.requests import client, signed_headers
from support.servers import notification

from clustaar.webhook import Webhook, deliveries, events

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
REPLAYED = "Clustaar-Webhook-Replayed"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/deliveries.db"
    return str(request.getfixturevalue("redis_url"))


class Counting:
    """A handler counting its calls, answering the count."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, request: Any, response: Any, notification: Any) -> Any:
        with self.lock:
            self.calls += 1
            calls = self.calls
        response.set_header("X-Own", "1")
        return {"calls": calls}


def post(app: Any, body: bytes, status: int = 200, headers: Any = None) -> Any:
    return client(app).post("/", body, headers=headers or JSON, status=status)


def test_a_duplicate_gets_the_first_answer_byte_for_byte(store_url: str) -> None:
    handler = Counting()
    app = Webhook(request_max_age=None, deliveries=store_url)
    app.on(STEP, handler)
    body = notification()
    first, second = post(app, body), post(app, body)
    assert handler.calls == 1
    assert first.json == {"calls": 1} and REPLAYED not in first.headers
    assert second.body == first.body and second.status == first.status
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert second.headers[REPLAYED] == "true"
    assert post(app, notification("Grace")).json == {"calls": 2}  # Another delivery.


@pytest.mark.parametrize("set_body", ["text", "media", "stream", "nothing"])
def test_what_the_handler_set_itself_is_kept_as_sent(store_url: str, set_body: str) -> None:
    import io

    def handler(request: Any, response: Any, notification: Any) -> None:
        response.status = 204 if set_body == "nothing" else 202
        if set_body == "text":
            response.text, response.content_type = "plain ünïcode", "text/plain; charset=utf-8"
        elif set_body == "media":
            response.media = {"via": "media"}
        elif set_body == "stream":
            response.stream, response.content_type = io.BytesIO(b"\x00raw"), "application/x-raw"

    app = Webhook(request_max_age=None, deliveries=store_url)
    app.on(STEP, handler)
    body = notification()
    status = 204 if set_body == "nothing" else 202
    first, second = post(app, body, status), post(app, body, status)
    assert second.body == first.body and second.headers[REPLAYED] == "true"
    assert second.headers.get("Content-Type") == first.headers.get("Content-Type")
    assert second.status == first.status


def test_the_key_is_the_date_and_the_body_or_delivery_key(store_url: str,
                                                          clock: Any) -> None:
    from support import NOW
    from support.requests import http_date

    handler = Counting()
    app = Webhook(private_key="k", clock=clock, deliveries=store_url)
    app.on(STEP, handler)
    body = notification()
    post(app, body, headers=signed_headers(body, key="k", date=http_date(NOW)))
    resent = post(app, body, headers=signed_headers(body, key="k", date=http_date(NOW + 1)))
    assert resent.json == {"calls": 2} and REPLAYED not in resent.headers  # Re-signed.

    handler.calls = 0
    by_step = Webhook(private_key="k", clock=clock, deliveries=store_url,
                      delivery_key=lambda request: request.json["data"]["step"]["id"])
    by_step.on(STEP, handler)
    for second in (0, 1, 2):
        answer = post(by_step, body, headers=signed_headers(body, key="k",
                                                            date=http_date(NOW + second)))
        assert answer.json == {"calls": 1}
    assert handler.calls == 1


def test_a_refused_request_claims_nothing(store_url: str, clock: Any) -> None:
    handler = Counting()
    app = Webhook(private_key="k", clock=clock, deliveries=store_url)
    app.on(STEP, handler)
    body = notification()
    headers = signed_headers(body, key="k")
    post(app, body, 400, headers={**headers, "X-Hub-Signature": "sha1=" + "0" * 40})
    assert post(app, body, headers=headers).json == {"calls": 1}


def test_a_handler_failure_releases_the_claim(store_url: str) -> None:
    calls: list[int] = []

    def flaky(request: Any, response: Any, notification: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the CRM is down")
        return {"calls": len(calls)}

    for on_error, failed in (("raise", 500), ("fallback", 200)):
        calls.clear()
        app = Webhook(request_max_age=None, deliveries=store_url, on_error=on_error)
        app.on(STEP, flaky)
        body = notification(on_error)
        post(app, body, failed)
        assert post(app, body).json == {"calls": 2}
        assert post(app, body).headers[REPLAYED] == "true" and len(calls) == 2


def _in_flight(app: Any, body: bytes,
               started: threading.Event) -> tuple[threading.Thread, list[Any]]:
    """The first delivery, sent in a thread: once its handler started."""
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(post(app, body)))
    first.start()
    assert started.wait(10)
    return first, answers


def test_a_duplicate_in_flight_waits_for_the_first_answer(store_url: str) -> None:
    started, release = threading.Event(), threading.Event()
    handler = Counting()

    def slow(request: Any, response: Any, notification: Any) -> Any:
        started.set()
        release.wait(10)
        return handler(request, response, notification)

    app = Webhook(request_max_age=None, deliveries=store_url)
    app.on(STEP, slow)
    body = notification()
    first, answers = _in_flight(app, body, started)
    threading.Timer(0.3, release.set).start()
    began = time.monotonic()
    duplicate = post(app, body)
    assert 0.2 < time.monotonic() - began < 5
    first.join(10)
    assert handler.calls == 1
    assert duplicate.body == answers[0].body and duplicate.headers[REPLAYED] == "true"


def test_a_duplicate_still_in_flight_gets_409_or_the_fallback(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliveries, "WAIT", 0.3)
    started, release = threading.Event(), threading.Event()

    def slow(request: Any, response: Any, notification: Any) -> Any:
        started.set()
        release.wait(10)
        return {"slow": True}

    web = lambda request: request.json["data"]["channel"] == "web"  # noqa: E731
    app = Webhook(request_max_age=None, deliveries=store_url,
                  delivery_key=lambda request: "one delivery")
    app.on(STEP, lambda request, response, notification: {"quick": True}, filters=web,
           deadline=0.3)
    app.on(STEP, slow)
    body = notification()
    first, answers = _in_flight(app, body, started)
    try:
        began = time.monotonic()
        busy = post(app, body, 409)
        assert 0.25 < time.monotonic() - began < 5
        assert busy.json["title"] == "Delivery in progress"
        other = json.loads(body)
        other["data"]["channel"] = "web"
        fallback = post(app, json.dumps(other).encode())  # Same key, a deadline of 0.3 s.
        assert fallback.headers["Clustaar-Webhook-Fallback"] == "deadline"
        assert fallback.json["actions"] == other["data"]["step"]["actions"]
        assert REPLAYED not in fallback.headers
    finally:
        release.set()
        first.join(10)
    assert answers[0].json == {"slow": True}
    assert post(app, body).json == {"slow": True}


def test_a_fallback_for_want_of_a_thread_is_not_kept(store_url: str) -> None:
    started, release = threading.Event(), threading.Event()
    handler = Counting()

    def blocking(request: Any, response: Any, notification: Any) -> Any:
        if request.json["data"]["interlocutor"]["firstName"] == "Ada":
            started.set()
            release.wait(10)
        return handler(request, response, notification)

    app = Webhook(request_max_age=None, deliveries=store_url, deadline=5, max_threads=1)
    app.on(STEP, blocking)
    first, answers = _in_flight(app, notification("Ada"), started)
    try:
        body = notification("Grace")
        skipped = post(app, body)  # No free thread: the fallback, the handler never ran.
        assert skipped.headers["Clustaar-Webhook-Fallback"] == "deadline"
    finally:
        release.set()
        first.join(10)
    assert answers[0].json == {"calls": 1}
    assert post(app, body).json == {"calls": 2}  # The retry runs it.
    assert post(app, body).headers[REPLAYED] == "true" and handler.calls == 2


@pytest.mark.parametrize("unreachable", ["sqlite", "redis"])
def test_an_unreachable_store_accepts_or_rejects(
        unreachable: str, caplog: pytest.LogCaptureFixture) -> None:
    from benchmarks.servers import free_port

    url = ("sqlite:///nonexistent/directory/deliveries.db" if unreachable == "sqlite"
           else f"redis://127.0.0.1:{free_port()}/0")
    handler = Counting()
    accept = Webhook(request_max_age=None, deliveries=url)
    accept.on(STEP, handler)
    body = notification()
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        assert post(accept, body).json == {"calls": 1}
    warnings = [r for r in served(caplog.records) if r.name == "clustaar.webhook"]
    assert len(warnings) == 1 and "without de-duplication" in warnings[0].getMessage()
    assert post(accept, body).json == {"calls": 2}  # No de-duplication.

    reject = Webhook(request_max_age=None, deliveries=url, on_store_error="reject")
    reject.on(STEP, handler)
    answer = post(reject, body, 503)
    assert answer.json["title"] == "Store unavailable" and handler.calls == 2


@pytest.mark.parametrize("options, error", [
    ({"deliveries": "postgres://db"}, ValueError),
    ({"deliveries": "sqlite://relative.db"}, ValueError),
    ({"deliveries": object()}, TypeError),
    ({"deliveries": "memory://", "on_store_error": "ignore"}, ValueError),
    ({"on_store_error": "ignore"}, ValueError),
    ({"deliveries": "memory://", "delivery_ttl": 0}, ValueError),
    ({"deliveries": "memory://", "delivery_ttl": "60"}, ValueError),
    ({"deliveries": "memory://", "delivery_key": "step"}, TypeError),
])
def test_deliveries_options_are_checked(options: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        Webhook(**options)


# --- What operations see of the deliveries. ---

def test_a_replay_is_the_replayed_outcome_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    from prometheus_client import CollectorRegistry

    from clustaar.webhook.metrics import Metrics

    registry = CollectorRegistry()
    app = Webhook(request_max_age=None, deliveries="memory://", metrics=Metrics(registry))
    app.on(STEP, Counting())
    body = notification()
    with caplog.at_level(logging.INFO, logger="clustaar.webhook"):
        post(app, body)
        post(app, body)
    outcomes = [getattr(r, "outcome", None) for r in caplog.records
                if r.name == "clustaar.webhook.notifications"]
    assert outcomes == ["answered", "replayed"]
    assert registry.get_sample_value("clustaar_webhook_duplicates_total",
                                     {"kind": "replayed"}) == 1


def test_health_is_unavailable_while_the_store_is_unreachable() -> None:
    app = Webhook(request_max_age=None, health_path="/health",
                  deliveries="sqlite:///nonexistent/directory/deliveries.db")
    app.on(STEP, Counting())
    web = client(app)
    assert web.get("/health").json == {"status": "ok"}
    post(app, notification())  # The store fails: handled without de-duplication.
    assert web.get("/health", status=503).json == {"status": "unavailable"}


def test_the_start_up_record_names_the_store(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="clustaar.webhook"):
        Webhook(deliveries="memory://")
    assert "deliveries store MemoryStore" in caplog.records[0].getMessage()
