"""The platform-request builders: notifications, bodies, signatures, dates and headers."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import re
import time
import urllib.error
from collections.abc import Iterator
from typing import Any

import falcon.testing
import pytest
from clustaar.schemas import v1
from clustaar.schemas.models import Message, PauseBotAction, SendTextAction, WebhookRequest
from support import KEY, NOW
from support.requests import basic
from support.servers import http_server

from benchmarks.servers import free_port
from clustaar.webhook import Webhook, events
from clustaar.webhook.loading import MAPPER, NotificationLoader
from clustaar.webhook.platform import (
    assignment,
    basic_auth,
    date_header,
    dump,
    encode,
    header_field,
    http_date,
    notification,
    platform_headers,
    post,
    sign,
)
from clustaar.webhook.replay import parse_http_date

OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def pong(request: Any, response: Any, notification: Any) -> dict[str, bool]:
    return {"pong": True}


# sign()

def test_sign_reproduces_the_contract_vectors(vector_bytes: bytes) -> None:
    assert sign(b"{}", "test") == "sha1=fc2bdea0e6a9e0dc333dece7568b5c3337a92342"
    assert sign(vector_bytes, "test") == "sha1=c401ad18c5ed1b0b19d37a4e0e5dab958b6b9a2f"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "SHA512"])
def test_sign_covers_the_date_and_the_body(algorithm: str) -> None:
    date = http_date(NOW)
    expected = hmac.new(b"k", f"date={date}\n".encode() + b'{"a": 1}',
                        getattr(hashlib, algorithm.lower())).hexdigest()
    assert sign(b'{"a": 1}', "k", date, algorithm) == f"{algorithm.lower()}={expected}"


def test_sign_refuses_an_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="md5"):
        sign(b"{}", "k", algorithm="md5")


def test_a_webhook_accepts_what_the_builders_send_and_refuses_a_tampered_body(
        vector_bytes: bytes) -> None:
    app = Webhook(private_key=KEY, clock=lambda: NOW)
    app.on(events.CONVERSATION_STEP_REACHED, pong)
    headers = platform_headers(vector_bytes, private_key=KEY, date=http_date(NOW),
                               algorithm="sha512")
    assert headers["X-Hub-Signature"].startswith("sha512=")
    sent = falcon.testing.simulate_post(app, "/", body=vector_bytes, headers=headers)
    assert sent.json == {"pong": True}
    tampered = vector_bytes.replace(b"tintin", b"milou")
    assert falcon.testing.simulate_post(app, "/", body=tampered, headers=headers).status_code == 400


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


def test_text_is_a_message_input() -> None:
    data = notification(text="A-42")
    assert data["data"]["input"] == {"type": "message", "text": "A-42", "attachments": []}
    loaded = NotificationLoader().load(data).event.input
    assert isinstance(loaded, Message)
    assert (loaded.text, loaded.attachments) == ("A-42", [])
    with pytest.raises(ValueError, match="input or text"):
        notification(text="A-42", input={"type": "message", "text": "B", "attachments": []})


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


# dump() and encode()

def test_dump_and_encode_write_models_as_the_framework_does() -> None:
    action = SendTextAction(alternatives=["hi"])
    assert dump([action]) == [{"type": "send_text_action", "alternatives": ["hi"]}]
    assert json.loads(encode({"actions": [action]})) == {"actions": dump([action])}
    assert encode(b"\x00raw") == b"\x00raw"


def test_encoding_a_model_subclass_leaves_the_shared_mapper_alone() -> None:
    class Greeting(SendTextAction):
        pass

    known = set(MAPPER._classes_to_mappings)
    body = encode({"actions": [Greeting(alternatives=["hi"])]})
    assert json.loads(body) == {"actions": [{"type": "send_text_action", "alternatives": ["hi"]}]}
    with pytest.raises(TypeError):
        encode({"x": object()})
    assert set(MAPPER._classes_to_mappings) == known


# Headers

def test_http_date_and_basic_auth() -> None:
    assert http_date(NOW) == "Sat, 28 Nov 2026 12:00:00 GMT"
    assert parse_http_date(http_date(), time.time()) is not None
    assert basic_auth("bot", "pa:ss:word") == basic()


def test_platform_headers_let_extra_headers_win_whatever_their_case() -> None:
    headers = platform_headers(b"{}", private_key=KEY, date="d1", extra={"DATE": "d2"})
    assert headers == {"Content-Type": "application/json", "DATE": "d2",
                       "X-Hub-Signature": sign(b"{}", KEY, "d2")}
    own = platform_headers(b"{}", private_key=KEY, extra={"x-hub-signature": "sha1=mine"})
    assert own == {"Content-Type": "application/json", "x-hub-signature": "sha1=mine"}


def test_platform_headers_without_secrets_or_date() -> None:
    assert platform_headers(b"{}") == {"Content-Type": "application/json"}
    assert platform_headers(b"{}", credentials=("bot", "pa:ss:word")) == {
        "Content-Type": "application/json", "Authorization": basic()}


# Text options

def test_date_header_words_and_exact_values() -> None:
    assert date_header("now", NOW) == date_header("NOW", NOW) == "Sat, 28 Nov 2026 12:00:00 GMT"
    assert date_header("none", NOW) is date_header("None", NOW) is None
    assert date_header("yesterday", NOW) == "yesterday"


def test_assignment_values_are_json_when_they_can_be_sent() -> None:
    assert [assignment(text)[1] for text in ("n=3", "n=true", "n=null", 'n="3"', 'n={"a": [1]}')] == [
        3, True, None, "3", {"a": [1]}]
    assert [assignment(text) for text in ("name=Tintin", "n=NaN", "n=1e999", "n=", "a=b=c")] == [
        ("name", "Tintin"), ("n", "NaN"), ("n", "1e999"), ("n", ""), ("a", "b=c")]
    for text in ("novalue", "=3"):
        with pytest.raises(ValueError, match="expected KEY=VALUE"):
            assignment(text)


def test_header_field() -> None:
    assert header_field("X-Trace: abc:def ") == ("X-Trace", "abc:def")
    assert header_field("X-Empty:") == ("X-Empty", "")
    for text in ("no-colon", ": value", "Two Words: x", "X-Bad\r\nInjected: x"):
        with pytest.raises(ValueError, match="expected NAME:VALUE"):
            header_field(text)
    with pytest.raises(ValueError, match="X-Bad"):
        header_field("X-Bad: a\r\nInjected: x")
    with pytest.raises(ValueError, match="X-Bad"):
        header_field("X-Bad: café ☕")


# post()

class _Echo(http.server.BaseHTTPRequestHandler):
    """Answers 201 with what it received, or redirects from /moved."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status, answer = (302, b"") if self.path == "/moved" else (201, json.dumps(
            {"body": body.decode(), "trace": self.headers["X-Trace"]}).encode())
        self.send_response(status)
        self.send_header("Location", "/")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with http_server(_Echo) as url:
        yield url


def test_post_goes_straight_to_the_url_and_returns_any_answer(
        echo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}/")  # Unreachable if used.
    assert post(echo_url + "/", b"{}", {"X-Trace": "t1"}, 5) == (
        201, "Created", b'{"body": "{}", "trace": "t1"}')
    assert post(echo_url + "/moved", b"{}", {}, 5) == (302, "Found", b"")  # Not followed.


def test_post_refuses_urls_it_cannot_send_to() -> None:
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        post("ftp://127.0.0.1/", b"{}", {}, 5)
    with pytest.raises(ValueError):
        post("http://[::1/", b"{}", {}, 5)
    with pytest.raises(urllib.error.URLError):
        post(f"http://127.0.0.1:{free_port()}/", b"{}", {}, 5)
