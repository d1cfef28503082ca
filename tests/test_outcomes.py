"""The outcome record of every notification, the same on both apps; failures named."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from support import KEY
from support.logs import PERSONAL, everything_in, personal_notification, served
from support.requests import client, signed_headers

from clustaar.webhook import Webhook, events
from clustaar.webhook.outcomes import OUTCOMES

pytestmark = pytest.mark.usefixtures("both_apps")

NOTIFICATIONS = "clustaar.webhook.notifications"
STEP = events.CONVERSATION_STEP_REACHED
SECRET_KEY = "private-key-marker-9f2c"
FIELDS = ("outcome", "status", "reason", "handler", "step_id", "duration_ms")


def answer(request: Any, response: Any, notification: Any) -> Any:
    return None


def broken(request: Any, response: Any, notification: Any) -> Any:
    raise RuntimeError("handler bug")


def slow(request: Any, response: Any, notification: Any) -> Any:
    time.sleep(0.3)


def broken_filter(request: Any) -> bool:
    raise KeyError("filter bug")


def outcomes(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The ``extra`` fields of each outcome record."""
    records = [r for r in caplog.records if r.name == NOTIFICATIONS]
    assert all(r.levelno == logging.INFO for r in records)
    return [{name: getattr(r, name) for name in FIELDS} for r in records]


def send(app: Any, body: bytes, status: int, caplog: pytest.LogCaptureFixture,
         **headers: str) -> dict[str, Any]:
    with caplog.at_level(logging.INFO, logger="clustaar.webhook"):
        client(app).post("/", body, headers={"Content-Type": "application/json", **headers},
                         status=status)
    [record] = outcomes(caplog)
    assert isinstance(record.pop("duration_ms"), float)
    return record


def test_an_answered_notification(vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, answer)
    assert send(app, vector_bytes, 204, caplog) == {
        "outcome": "answered", "status": 204, "reason": None,
        "handler": f"{__name__}.answer", "step_id": "1234"}
    [record] = [r for r in caplog.records if r.name == NOTIFICATIONS]
    assert record.getMessage().startswith(
        f"notification answered with 204 (handler {__name__}.answer, step 1234) in ")


def test_a_rejected_notification_names_the_refusal(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None, private_key=KEY)
    app.on(STEP, answer)
    assert send(app, vector_bytes, 400, caplog) == {
        "outcome": "rejected", "status": 400, "reason": "Invalid header value",
        "handler": None, "step_id": None}


def test_a_notification_without_a_route(vector_bytes: bytes,
                                        caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None)
    assert send(app, vector_bytes, 404, caplog) == {
        "outcome": "rejected", "status": 404, "reason": "No route", "handler": None,
        "step_id": "1234"}


def test_the_deadline_fallback(vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None, deadline=0.05)
    app.on(STEP, slow)
    assert send(app, vector_bytes, 200, caplog)["outcome"] == "fallback_deadline"
    time.sleep(0.3)  # The late handler ends (and logs its dropped answer) within this test.


def test_the_error_fallback(vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None, on_error="fallback")
    app.on(STEP, broken)
    assert send(app, vector_bytes, 200, caplog) == {
        "outcome": "fallback_error", "status": 200, "reason": None,
        "handler": f"{__name__}.broken", "step_id": "1234"}


def test_a_failing_handler_is_named_with_its_step(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, broken)
    assert send(app, vector_bytes, 500, caplog) == {
        "outcome": "failed", "status": 500, "reason": "handler failed",
        "handler": f"{__name__}.broken", "step_id": "1234"}
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == f"handler {__name__}.broken failed for step '1234'"
    assert error.exc_info is not None and error.exc_info[0] is RuntimeError


def test_a_failing_filter_is_a_filter_failure_not_a_handler_one(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, answer, filters=broken_filter)
    with caplog.at_level(logging.INFO, logger="clustaar.webhook"):
        response = client(app).post("/", vector_bytes, status=500)
    assert response.content_type == "application/json"
    assert response.json == {"title": "Internal Server Error",
                             "description": "The webhook failed to process this notification."}
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == f"filter {__name__}.broken_filter failed for step '1234'"
    assert error.exc_info is not None and error.exc_info[0] is KeyError
    assert [(o["outcome"], o["reason"], o["handler"]) for o in outcomes(caplog)] == [
        ("failed", "filter failed", None)]


def test_a_filter_raising_an_http_error_on_purpose_is_answered_as_such(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    import falcon

    def refuse(request: Any) -> bool:
        raise falcon.HTTPForbidden(title="Forbidden", description="Not this bot.")

    app = Webhook(request_max_age=None)
    app.on(STEP, answer, filters=refuse)
    assert send(app, vector_bytes, 403, caplog)["reason"] == "Forbidden"


def test_a_wrong_path_or_method_is_a_rejected_outcome(caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None)
    with caplog.at_level(logging.INFO, logger="clustaar.webhook"):
        client(app).get("/", status=405)
        client(app).get("/elsewhere", status=404)
    assert [(o["outcome"], o["status"]) for o in outcomes(caplog)] == [
        ("rejected", 405), ("rejected", 404)]


def test_records_are_off_below_info(vector_bytes: bytes,
                                    caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, answer)
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        client(app).post("/", vector_bytes, status=204)
    assert outcomes(caplog) == []


def test_ids_are_cut_and_cannot_forge_lines(vector: dict[str, Any],
                                            caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, answer)
    vector["data"]["step"]["id"] = "a\nforged line" + "x" * 1000
    record = send(app, json.dumps(vector).encode(), 204, caplog)
    assert record["step_id"] == ("a\\nforged line" + "x" * 1000)[:129]
    [line] = [r.getMessage() for r in caplog.records if r.name == NOTIFICATIONS]
    assert "\n" not in line


def test_every_outcome_is_listed() -> None:
    assert OUTCOMES == ("answered", "fallback_deadline", "fallback_error", "replayed",
                        "rejected", "failed")


@pytest.mark.parametrize("handler, status", [(answer, 204), (broken, 500)])
def test_no_personal_data_or_secret_in_any_record(
        vector: dict[str, Any], caplog: pytest.LogCaptureFixture, handler: Any,
        status: int) -> None:
    app = Webhook(request_max_age=None, private_key=SECRET_KEY, auth_username="platform-user",
                  auth_password="platform-pass", on_error="raise", deadline=5)
    app.on(STEP, handler)
    body = personal_notification(vector)
    auth = "Basic cGxhdGZvcm0tdXNlcjpwbGF0Zm9ybS1wYXNz"
    with caplog.at_level(logging.DEBUG):
        client(app).post("/", body, headers=signed_headers(body, SECRET_KEY, auth=auth),
                         status=status)
        client(app).post("/", body, headers={"Content-Type": "application/json"}, status=400)
    logged = "".join(everything_in(record) for record in caplog.records)
    assert [o["outcome"] for o in outcomes(caplog)] == [
        "answered" if status == 204 else "failed", "rejected"]
    for secret in (*PERSONAL, SECRET_KEY, "platform-pass", auth.split()[1]):
        assert secret not in logged
    assert json.dumps(served(caplog.records), default=repr)
