"""The test kit: sign(), notification(), TestClient and call(), checked against the framework."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

import falcon
import pytest
from clustaar.schemas import v1
from clustaar.schemas.models import (
    Message,
    PauseBotAction,
    SendTextAction,
    StepReachedResponse,
    WebhookRequest,
)
from support import KEY, NOW, PASSWORD, USER
from support.requests import basic, client, http_date

from clustaar.webhook import Webhook, events
from clustaar.webhook.loading import MAPPER, LoadError, NotificationLoader
from clustaar.webhook.messages import Request, Response
from clustaar.webhook.testing import (
    TestClient,
    call,
    dump,
    encode,
    notification,
    platform_headers,
    sign,
)

OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def echo(request: Any, response: Any, notification: Any) -> StepReachedResponse:
    """Answer the step's actions and the session, as contract §2 "Success" describes."""
    return StepReachedResponse(actions=notification.event.step.actions,
                               session=notification.event.session)


def headers_seen(request: Any, response: Any, notification: Any) -> dict[str, Any]:
    """Answer the headers the request arrived with."""
    return {name: request.get_header(name)
            for name in ("Date", "X-Hub-Signature", "Authorization", "Content-Type")}


@pytest.fixture
def secure(secure_app: Webhook) -> TestClient:
    """A client of a webhook with every check on, a fixed clock and an echo route."""
    secure_app.on(events.CONVERSATION_STEP_REACHED, echo)
    return TestClient(secure_app)


# sign()

def test_sign_reproduces_the_spec_vectors(vector_bytes: bytes) -> None:
    assert sign(b"{}", "test") == "sha1=fc2bdea0e6a9e0dc333dece7568b5c3337a92342"
    assert sign(vector_bytes, "test") == "sha1=c401ad18c5ed1b0b19d37a4e0e5dab958b6b9a2f"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "SHA512"])
def test_sign_covers_the_date_and_the_body(algorithm: str) -> None:
    date = http_date()
    expected = hmac.new(b"k", f"date={date}\n".encode() + b'{"a": 1}',
                        getattr(hashlib, algorithm.lower())).hexdigest()
    assert sign(b'{"a": 1}', "k", date, algorithm) == f"{algorithm.lower()}={expected}"


def test_sign_refuses_an_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="md5"):
        sign(b"{}", "k", algorithm="md5")


def test_a_signature_from_sign_is_accepted_and_a_tampered_body_is_not(
        clock: Any, vector_bytes: bytes) -> None:
    app = Webhook(private_key=KEY, clock=clock)
    app.on(events.CONVERSATION_STEP_REACHED, echo)
    headers = {"Date": http_date(), "X-Hub-Signature": sign(vector_bytes, KEY, http_date())}
    assert client(app).post("/", vector_bytes, headers=headers).status_int == 200
    tampered = vector_bytes.replace(b"tintin", b"milou")
    assert client(app).post("/", tampered, headers=headers, expect_errors=True).status_int == 400


# notification()

def test_notification_loads_with_our_loader_and_the_stock_mapper() -> None:
    data = notification(step_id="a" * 24, step_name="Hello", channel="facebook", bot_id="b" * 24,
                        actions=[SendTextAction(alternatives=["hi"]), {"type": "pause_bot_action"}],
                        session_values={"name": "tintin"}, interlocutor={"firstName": "Tintin"},
                        input=Message(text="bonjour", attachments=[]), timestamp=1514998709)
    for loaded in (NotificationLoader().load(data), MAPPER.load(data, v1.WEBHOOK_REQUEST)):
        assert isinstance(loaded, WebhookRequest)
        assert (loaded.topic, loaded.bot_id, loaded.timestamp) == (
            events.CONVERSATION_STEP_REACHED, "b" * 24, 1514998709)
        event = loaded.event
        assert (event.step.id, event.step.name, event.channel) == ("a" * 24, "Hello", "facebook")
        assert isinstance(event.step.actions[0], SendTextAction)
        assert event.step.actions[0].alternatives == ["hi"]
        assert isinstance(event.step.actions[1], PauseBotAction)
        assert event.session.values == {"name": "tintin"}
        assert event.interlocutor.first_name == "Tintin"
        assert event.input.text == "bonjour"


def test_notification_defaults_look_real_and_leave_input_out() -> None:
    before = int(time.time())
    data = notification()
    assert before <= data["timestamp"] <= time.time()
    assert data["topic"] == events.CONVERSATION_STEP_REACHED
    assert data["data"]["channel"] == "web"
    assert "input" not in data["data"]
    event = data["data"]
    for object_id in (data["botID"], event["step"]["id"], event["interlocutor"]["id"]):
        assert OBJECT_ID.fullmatch(object_id)
    loaded = NotificationLoader().load(data)
    assert loaded.event.step.actions == [] and loaded.event.session.values == {}
    assert loaded.event.input is None


def test_interlocutor_overrides_keep_the_other_defaults() -> None:
    default = notification()["data"]["interlocutor"]
    assert {"id", "userID", "firstName", "lastName", "email", "customAttributes",
            "location"} <= set(default)
    changed = notification(interlocutor={"email": None, "customAttributes": {"plan": "pro"}})
    assert changed["data"]["interlocutor"] == {
        **default, "email": None, "customAttributes": {"plan": "pro"}}
    assert NotificationLoader().load(changed).event.interlocutor.custom_attributes == {
        "plan": "pro"}


def test_notification_is_plain_json_and_a_copy_of_its_inputs() -> None:
    values = {"cart": ["apple"]}
    data = notification(session_values=values, actions=[PauseBotAction()])
    assert json.loads(json.dumps(data)) == data
    assert data["data"]["step"]["actions"] == [{"type": "pause_bot_action"}]
    data["data"]["session"]["values"]["cart"].append("pear")
    assert values == {"cart": ["apple"]}


def test_notification_refuses_values_that_are_not_json() -> None:
    with pytest.raises(TypeError):
        notification(session_values={"when": object()})
    with pytest.raises(ValueError):
        notification(session_values={"ratio": float("nan")})


def test_dump_and_encode_match_what_the_framework_sends(secure: TestClient) -> None:
    action = SendTextAction(alternatives=["hi"])
    assert dump([action]) == [{"type": "send_text_action", "alternatives": ["hi"]}]
    assert encode(b"\x00raw") == b"\x00raw"
    answer = secure.send(notification(actions=[action], session_values={"a": 1}))
    assert answer.json == dump(echo(None, None, NotificationLoader().load(
        notification(actions=[action], session_values={"a": 1}))))


# TestClient

def test_client_signs_authenticates_and_dates_with_the_webhooks_settings(
        secure: TestClient) -> None:
    answer = secure.send(notification(actions=[{"type": "pause_bot_action"}],
                                      session_values={"name": "tintin"}))
    assert answer.status_int == 200
    assert answer.json == {"actions": [{"type": "pause_bot_action"}],
                           "session": {"values": {"name": "tintin"}}, "interlocutor": None}
    assert (secure.private_key, secure.credentials, secure.clock()) == (KEY, (USER, PASSWORD), NOW)


def test_client_sends_the_headers_the_platform_sends(clock: Any) -> None:
    app = Webhook(auth_username=USER, auth_password=PASSWORD, private_key=["old", KEY],
                  clock=clock)
    app.on(events.CONVERSATION_STEP_REACHED, headers_seen)
    payload = notification(timestamp=1)
    seen = TestClient(app).send(payload).json
    assert seen == {"Date": http_date(),
                    "X-Hub-Signature": sign(encode(payload), "old", http_date()),
                    "Authorization": basic(), "Content-Type": "application/json"}


@pytest.mark.parametrize("options, status, description", [
    ({"sign": False}, 400, "The request's signature is missing."),
    ({"sign": "not-the-key"}, 400, "The request's signature is invalid."),
    ({"headers": {"X-Hub-Signature": "sha1=ab=cd"}}, 400, "The request's signature is invalid."),
    ({"auth": False}, 403, "This call needs authentication"),
    ({"auth": (USER, "guess")}, 403, "This call needs authentication"),
    ({"date": None}, 400, "The request's Date header is missing."),
    ({"date": http_date(NOW - 11)}, 400, "Request is too old"),
    ({"date": "yesterday"}, 400, "The request's Date header is invalid."),
])
def test_each_check_can_be_turned_off_or_overridden(secure: TestClient, options: dict[str, Any],
                                                     status: int, description: str) -> None:
    answer = secure.send(notification(), **options)
    assert answer.status_int == status
    assert answer.json["description"].endswith(description)


@pytest.mark.parametrize("options", [
    {"sign": KEY}, {"auth": (USER, PASSWORD)}, {"date": http_date(NOW - 10)},
    {"headers": {"date": http_date(NOW + 5)}},
    {"headers": {"X-Hub-Signature": sign(encode(notification(timestamp=1)), KEY, http_date())}},
])
def test_overrides_with_the_right_values_are_accepted(secure: TestClient,
                                                      options: dict[str, Any]) -> None:
    assert secure.send(notification(timestamp=1), **options).status_int == 200


def test_client_sends_bytes_and_models_as_they_are(secure: TestClient, vector_bytes: bytes) -> None:
    assert secure.send(vector_bytes).json["session"] == {"values": {"name": "tintin"}}
    model = MAPPER.load(notification(session_values={"n": 1}), v1.WEBHOOK_REQUEST)
    assert secure.send(model).json["session"] == {"values": {"n": 1}}
    assert secure.send(b"{not json").status_int == 400
    assert secure.send(notification(), path="/other").status_int == 404


def test_client_of_an_open_webhook_sends_no_secrets() -> None:
    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, headers_seen)
    seen = TestClient(app).send(notification()).json
    assert seen["X-Hub-Signature"] is None and seen["Authorization"] is None
    assert seen["Date"] is not None


def test_platform_headers_let_extra_headers_win_whatever_their_case() -> None:
    headers = platform_headers(b"{}", private_key=KEY, date="d1", extra={"DATE": "d2"})
    assert headers == {"Content-Type": "application/json", "DATE": "d2",
                       "X-Hub-Signature": sign(b"{}", KEY, "d2")}


# call()

def test_call_builds_the_arguments_the_framework_builds() -> None:
    seen: list[tuple[Any, ...]] = []

    def record(request: Any, response: Any, notification: Any) -> dict[str, int]:
        seen.append((type(request), request.body, request.json, type(response),
                     response.status_set, type(notification), notification.event.session.values))
        return {"ok": 1}

    payload = notification(session_values={"n": 1}, timestamp=1)
    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, record)
    TestClient(app).send(payload)
    assert call(record, payload) == {"ok": 1}
    assert seen[0] == seen[1]
    assert seen[0][:2] == (Request, encode(payload)) and seen[0][3:6] == (
        Response, False, WebhookRequest)


def test_call_returns_the_handlers_result_unchanged() -> None:
    result = object()
    assert call(lambda request, response, notification: result, notification()) is result
    answer = call(echo, notification(session_values={"name": "tintin"}))
    assert isinstance(answer, StepReachedResponse)
    assert answer.session.values == {"name": "tintin"}


def test_call_rejects_what_the_pipeline_rejects(vector: dict[str, Any]) -> None:
    with pytest.raises(falcon.HTTPBadRequest):
        call(echo, b'{"topic": NaN}')
    del vector["data"]["step"]["id"]
    with pytest.raises(LoadError) as error:
        call(echo, vector)
    assert error.value.path == "data.step.id"


def test_encoding_a_model_subclass_leaves_the_shared_mapper_alone() -> None:
    from clustaar.schemas.models import SendTextAction

    from clustaar.webhook.loading import MAPPER

    class Greeting(SendTextAction):
        pass

    known = set(MAPPER._classes_to_mappings)
    body = encode({"actions": [Greeting(alternatives=["hi"])]})
    assert json.loads(body) == {"actions": [{"type": "send_text_action", "alternatives": ["hi"]}]}
    with pytest.raises(TypeError):
        encode({"x": object()})
    assert set(MAPPER._classes_to_mappings) == known
