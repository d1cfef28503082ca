"""Deadlines and the fallback answer, on both apps: in time whatever the handler does.

Real time is needed only where a deadline must pass: deadlines of 0.2 s, with margins of
seconds; a handler that must outlive its deadline waits on an event the test sets.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

import pytest
from clustaar.schemas.models import SendTextAction, StepReachedResponse
from support.logs import served
from support.requests import client

from clustaar.webhook import Webhook, events

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
HEADER = "Clustaar-Webhook-Fallback"
#: What the bot does without a webhook, for the shipped vector.
STEP_FALLBACK = {"actions": [{"type": "pause_bot_action"}],
                 "session": {"values": {"name": "tintin"}}, "interlocutor": None}


def post(app: Any, body: bytes, status: int = 200) -> Any:
    return client(app).post("/", body, headers={"Content-Type": "application/json"},
                            status=status)


def records(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(record.levelname, record.getMessage()) for record in served(caplog.records)
            if record.name == "clustaar.webhook"]


def test_a_late_handler_gets_the_steps_own_actions_and_session_as_received(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    release, ended = threading.Event(), threading.Event()

    def slow(request: Any, response: Any, notification: Any) -> Any:
        notification.event.session.values["name"] = "changed by the late handler"
        response.set_header("X-Late", "1")
        release.wait(10)
        ended.set()
        return {"late": True}

    app = Webhook(request_max_age=None, deadline=0.2)
    app.on(STEP, slow)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        answer = post(app, vector_bytes)
        elapsed = time.monotonic() - started
        assert answer.json == STEP_FALLBACK
        assert answer.headers[HEADER] == "deadline"
        assert "X-Late" not in answer.headers
        assert 0.2 <= elapsed < 2
        release.set()
        assert ended.wait(10)
        time.sleep(0.05)  # The dropped answer's record follows the handler's end.
    name = f"{slow.__module__}.{slow.__qualname__}"
    # Only this handler's: a late handler of an earlier test may log while this one runs.
    logged = [(level, message) for level, message in records(caplog) if name in message]
    assert logged[0] == ("WARNING", f"handler {name} did not answer within the 0.2 s deadline "
                                    "for step '1234'; answered the fallback")
    assert logged[1][0] == "WARNING" and logged[1][1].startswith(f"handler {name} returned ")
    assert logged[1][1].endswith("after its deadline for step '1234'; its answer was dropped")


def test_a_late_coroutine_is_cancelled(vector_bytes: bytes) -> None:
    cancelled = threading.Event()

    async def slow(request: Any, response: Any, notification: Any) -> Any:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app = Webhook(request_max_age=None, deadline=0.2)
    app.on(STEP, slow)
    assert post(app, vector_bytes).headers[HEADER] == "deadline"
    assert cancelled.wait(5)
    time.sleep(0.05)  # Its end is logged within this test.


def test_an_answer_in_time_is_the_handlers_with_what_it_set(vector_bytes: bytes) -> None:
    def quick(request: Any, response: Any, notification: Any) -> Any:
        response.set_header("X-Quick", "1")
        response.status = 202
        return {"remaining": 0 < request.context.deadline.remaining() <= 5}

    app = Webhook(request_max_age=None, deadline=5)
    app.on(STEP, quick)
    answer = post(app, vector_bytes, status=202)
    assert answer.json == {"remaining": True}
    assert answer.headers["X-Quick"] == "1" and HEADER not in answer.headers


def test_without_a_deadline_the_budget_is_infinite(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, lambda request, response, notification: {
        "remaining": str(request.context.deadline.remaining())})
    assert post(app, vector_bytes).json == {"remaining": "inf"}


def test_a_route_overrides_the_apps_deadline_and_fallback(vector_bytes: bytes) -> None:
    def own_fallback(request: Any, notification: Any) -> Any:
        return StepReachedResponse(actions=[SendTextAction(alternatives=["Un instant…"])],
                                   session=notification.event.session)

    def sleepy(request: Any, response: Any, notification: Any) -> Any:
        time.sleep(0.4)
        return {"slept": True}

    app = Webhook(request_max_age=None, deadline=0.2)
    app.on(STEP, sleepy, filters=lambda request: request.json["data"]["channel"] == "web",
           deadline=None)
    app.on(STEP, sleepy, fallback=own_fallback)
    answer = post(app, vector_bytes)  # The vector's channel is facebook: the second route.
    assert answer.json["actions"] == [{"type": "send_text_action",
                                       "alternatives": ["Un instant…"]}]
    web = json.loads(vector_bytes)
    web["data"]["channel"] = "web"
    assert post(app, json.dumps(web).encode()).json == {"slept": True}  # No deadline.


def test_the_apps_fallback_is_used_for_every_route(vector_bytes: bytes) -> None:
    release, ended = threading.Event(), threading.Event()

    def late(request: Any, response: Any, notification: Any) -> None:
        release.wait(10)
        ended.set()

    app = Webhook(request_max_age=None, deadline=0.2,
                  fallback=lambda request, notification: {"fallback": request.json["topic"]})
    app.on(STEP, late)
    assert post(app, vector_bytes).json == {"fallback": STEP}
    release.set()  # Ended here, its dropped answer logged here, not in a later test.
    assert ended.wait(10)
    time.sleep(0.05)


def test_on_error_fallback_answers_the_fallback_and_logs_the_traceback(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: Any, response: Any, notification: Any) -> Any:
        response.set_header("X-Broken", "1")
        raise RuntimeError("the CRM is down")

    app = Webhook(request_max_age=None, on_error="fallback")
    app.on(STEP, broken)
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        answer = post(app, vector_bytes)
    assert answer.json == STEP_FALLBACK
    assert answer.headers[HEADER] == "error" and "X-Broken" not in answer.headers
    [record] = [r for r in served(caplog.records) if r.name == "clustaar.webhook"]
    assert record.levelname == "ERROR" and record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


def test_on_error_raise_is_the_500_with_or_without_a_deadline(vector_bytes: bytes) -> None:
    def broken(request: Any, response: Any, notification: Any) -> Any:
        raise RuntimeError("the CRM is down")

    for options in ({}, {"deadline": 5}):
        app = Webhook(request_max_age=None, **options)
        app.on(STEP, broken)
        assert post(app, vector_bytes, status=500).json["title"] == "Internal Server Error"


def test_a_full_pool_answers_the_fallback_at_once(vector_bytes: bytes,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    busy, release = threading.Event(), threading.Event()

    def blocking(request: Any, response: Any, notification: Any) -> Any:
        busy.set()
        release.wait(10)
        return {"done": True}

    app = Webhook(request_max_age=None, deadline=5, max_threads=1)
    app.on(STEP, blocking)
    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(post(app, vector_bytes)))
    worker.start()
    try:
        assert busy.wait(10)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
            second = post(app, vector_bytes)
        assert time.monotonic() - started < 1  # Not the 5 s deadline: at once.
    finally:
        release.set()
        worker.join(10)
    assert second.headers[HEADER] == "deadline" and second.json == STEP_FALLBACK
    assert any("found no free thread" in message for _, message in records(caplog))
    assert first[0].json == {"done": True}


@pytest.mark.parametrize("options, error", [
    ({"deadline": 0}, ValueError), ({"deadline": -1}, ValueError), ({"deadline": "1"}, TypeError),
    ({"on_error": "ignore"}, ValueError), ({"fallback": "steps"}, TypeError),
])
def test_deadline_options_are_checked(options: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        Webhook(**options)


def test_route_deadlines_are_checked() -> None:
    app = Webhook()
    with pytest.raises(ValueError):
        app.on(STEP, lambda request, response, notification: None, deadline=0)
