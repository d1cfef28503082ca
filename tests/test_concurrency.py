"""One app, many threads (contract §3): every answer carries its own request's data back."""
from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from support import KEY, PASSWORD, USER
from support.requests import basic, signed_headers
from webtest import TestApp

from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import JSONKeyExists, StepID

pytestmark = pytest.mark.usefixtures("both_apps")

THREADS = 8
REQUESTS = 200


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Make threads switch very often, so interleavings inside a request are likely."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def test_threads_never_see_each_others_requests(vector: dict[str, Any],
                                                clock: Callable[[], float],
                                                fast_switching: None) -> None:
    app = Webhook(USER, PASSWORD, KEY, clock=clock)
    inconsistent: list[str] = []

    def handler(request: Any, response: Any, notification: Any) -> Any:
        tag = notification.event.session.values["tag"]
        # Everything this handler sees must come from the same request.
        if request.json["data"]["session"]["values"]["tag"] != tag \
                or json.loads(request.body)["data"]["session"]["values"]["tag"] != tag \
                or notification.event.interlocutor.id != tag:
            inconsistent.append(tag)
        response.set_header("X-Tag", tag)
        notification.event.session.values["echo"] = tag
        return notification.event.session

    app.on(events.CONVERSATION_STEP_REACHED, handler,
           filters=[StepID("1234"), JSONKeyExists("data.session.values.tag")])

    start = threading.Barrier(THREADS)
    failures: list[str] = []
    done: list[int] = []

    def worker(number: int) -> None:
        web = TestApp(app)  # one client per thread; the app is shared
        start.wait(timeout=30)
        for index in range(REQUESTS):
            tag = f"t{number}-r{index}"
            data = json.loads(json.dumps(vector))
            data["data"]["session"]["values"]["tag"] = tag
            data["data"]["interlocutor"]["id"] = tag
            body = json.dumps(data).encode()
            answer = web.post("/", body, expect_errors=True,
                              headers=signed_headers(body, date=None, auth=basic()))
            expected = {"values": {"name": "tintin", "tag": tag, "echo": tag}}
            if answer.status_int != 200 or answer.json != expected \
                    or answer.headers.get("X-Tag") != tag:
                failures.append(f"{tag}: {answer.status} {answer.body[:200]!r}")
        done.append(number)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(done) == list(range(THREADS))
    assert failures == []
    assert inconsistent == []
    # The same app really runs every check: each one still rejects.
    web, body = TestApp(app), json.dumps(vector).encode()
    web.post("/", body, headers=signed_headers(body, auth=basic(), key="other"), status=400)
    web.post("/", body, headers=signed_headers(body), status=403)
    web.post("/", body, headers=signed_headers(body, auth=basic(), date="Sun, 01 Jan 2006 "
                                               "00:00:00 GMT"), status=400)
