"""The example bot, through webtest and served by a real gunicorn on 127.0.0.1."""
from __future__ import annotations

import http.client
import importlib.util
import json
import socket
import time
from types import ModuleType
from typing import Any, Optional

import pytest
from support.requests import basic, client, http_date, signed_headers

from benchmarks.servers import EXAMPLES, free_port, gunicorn, serve
from clustaar.webhook import Webhook

pytestmark = pytest.mark.server

SECRETS = {"CLUSTAAR_WEBHOOK_PRIVATE_KEY": "gunicorn-test-key",
           "CLUSTAAR_WEBHOOK_AUTH_USERNAME": "clustaar",
           "CLUSTAAR_WEBHOOK_AUTH_PASSWORD": "s3:cret"}


def load_bot() -> ModuleType:
    """Import examples/bot.py as a module (it builds its app from the real environment)."""
    spec = importlib.util.spec_from_file_location("example_bot", EXAMPLES / "bot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BOT = load_bot()


def notification(vector: dict[str, Any], step_id: str, values: dict[str, Any],
                 first_name: Optional[str] = None) -> bytes:
    """The shipped vector at ``step_id`` with these session values."""
    data = json.loads(json.dumps(vector))
    data["data"]["step"]["id"] = step_id
    data["data"]["session"]["values"] = values
    if first_name is not None:
        data["data"]["interlocutor"]["firstName"] = first_name
    return json.dumps(data).encode()


def say(text: str) -> dict[str, Any]:
    return {"type": "send_text_action", "alternatives": [text]}


def answer_of(app: Webhook, body: bytes) -> Any:
    headers = {"Content-Type": "application/json", "Date": http_date(time.time())}
    return client(app).post("/", body, headers=headers).json


@pytest.mark.parametrize("step, values, first_name, actions, session", [
    (BOT.WELCOME_STEP, {}, "Ada", [say("Hello Ada!"), {"type": "pause_bot_action"}],
     {"name": "Ada", "visits": 1}),
    (BOT.WELCOME_STEP, {}, None, [say("Hello there!"), {"type": "pause_bot_action"}],
     {"name": "there", "visits": 1}),
    (BOT.WELCOME_STEP, {"name": "Ada", "visits": 2}, None,
     [say("Welcome back Ada! This is visit number 3.")], {"name": "Ada", "visits": 3}),
    # A name the session holds as null or "" is no name: greet as a first visit.
    (BOT.WELCOME_STEP, {"name": None}, "Bob", [say("Hello Bob!"), {"type": "pause_bot_action"}],
     {"name": "Bob", "visits": 1}),
    (BOT.WELCOME_STEP, {"name": ""}, "Bob", [say("Hello Bob!"), {"type": "pause_bot_action"}],
     {"name": "Bob", "visits": 1}),
    (BOT.GOODBYE_STEP, {"name": "Ada", "visits": 3}, None, [say("Goodbye Ada!")], {"visits": 3}),
    (BOT.GOODBYE_STEP, {}, None, [say("Goodbye!")], {}),
])
def test_bot_answers(vector: dict[str, Any], step: str, values: dict[str, Any],
                     first_name: Optional[str], actions: list[Any],
                     session: dict[str, Any]) -> None:
    app = BOT.create_app({})
    body = notification(vector, step, values, first_name)
    assert answer_of(app, body) == {"actions": actions, "session": {"values": session},
                                    "interlocutor": None}


def test_bot_has_no_route_for_other_steps(vector: dict[str, Any]) -> None:
    body = notification(vector, "another-step", {})
    headers = {"Content-Type": "application/json", "Date": http_date(time.time())}
    client(BOT.create_app({})).post("/", body, headers=headers, status=404)


def test_bot_reads_its_secrets_from_the_environment(vector: dict[str, Any]) -> None:
    app = BOT.create_app(SECRETS)
    assert [type(check).__name__ for check in app.checks] == [
        "ReplayWindow", "SignatureCheck", "BasicAuth"]
    assert [type(check).__name__ for check in BOT.create_app({
        "CLUSTAAR_WEBHOOK_PRIVATE_KEY": "", "CLUSTAAR_WEBHOOK_AUTH_USERNAME": ""}).checks] == [
        "ReplayWindow"]  # empty variables turn checks off
    with pytest.raises(ValueError):  # half the credentials is a mistake, not "auth off"
        BOT.create_app({"CLUSTAAR_WEBHOOK_AUTH_USERNAME": "clustaar"})


def post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, str, Any]:
    """POST to the server with http.client; return status, content type and parsed body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), json.loads(response.read())
    finally:
        connection.close()


def test_gunicorn_serves_the_signed_bot(vector: dict[str, Any]) -> None:
    port = free_port()
    body = notification(vector, BOT.WELCOME_STEP, {"name": "Ada", "visits": 1})
    auth = basic(SECRETS["CLUSTAAR_WEBHOOK_AUTH_USERNAME"],
                 SECRETS["CLUSTAAR_WEBHOOK_AUTH_PASSWORD"])
    with serve(gunicorn(port, "bot:app", "--workers", "1"), port, env=SECRETS) as process:
        signed = signed_headers(body, key=SECRETS["CLUSTAAR_WEBHOOK_PRIVATE_KEY"],
                                date=http_date(time.time()), auth=auth)
        status, content_type, answer = post(port, body, signed)
        assert (status, content_type.split(";")[0]) == (200, "application/json")
        assert answer == {"actions": [say("Welcome back Ada! This is visit number 2.")],
                          "session": {"values": {"name": "Ada", "visits": 2}},
                          "interlocutor": None}

        unsigned = {"Content-Type": "application/json", "Date": http_date(time.time()),
                    "Authorization": auth}
        status, content_type, answer = post(port, body, unsigned)
        assert (status, content_type.split(";")[0]) == (400, "application/json")
        assert answer == {"title": "Invalid header value", "description": (
            'The value provided for the "X-Hub-Signature" header is invalid. '
            "The request's signature is missing.")}
    assert process.poll() is not None  # stopped by its PID when the block ended
    with pytest.raises(OSError):  # and nothing listens on its port any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
