"""The test kit: TestClient, route() and call(), checked against the framework."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any

import falcon
import falcon.asgi
import pytest
from clustaar.schemas import v1
from clustaar.schemas.models import StepReachedResponse, WebhookRequest
from support import KEY, NOW, PASSWORD, USER
from support.requests import basic, http_date

from clustaar.webhook import Webhook, events, platform, testing
from clustaar.webhook.filters import JSONKeyEquals, StepID
from clustaar.webhook.loading import MAPPER, LoadError
from clustaar.webhook.messages import Request, Response
from clustaar.webhook.rejection import Rejection
from clustaar.webhook.routing import Router
from clustaar.webhook.testing import TestClient, call, dump, encode, notification, route, sign


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
    ({"date": "yesterday"}, 400, "The request's Date header is invalid. Expected an HTTP date "
                                 'such as "Tue, 01 Dec 2026 21:00:00 GMT".'),
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


def test_the_answer_keeps_webtests_names_beside_falcons(secure: TestClient) -> None:
    answer = secure.send(notification(session_values={"a": 1}))
    assert isinstance(answer, falcon.testing.Result)
    assert (answer.status, answer.status_code, answer.status_int) == ("200 OK", 200, 200)
    assert answer.body == answer.content == answer.text.encode()
    assert answer.json == dump(call(echo, notification(session_values={"a": 1})))
    assert answer.headers["content-type"] == answer.headers["Content-Type"] == "application/json"
    silent = Webhook(request_max_age=None)
    silent.on(events.CONVERSATION_STEP_REACHED, lambda request, response, notification: None)
    nothing = TestClient(silent).send(notification())
    assert (nothing.status, nothing.body, nothing.json) == ("204 No Content", b"", None)


class _Seen:
    """An ASGI resource answering the headers and body it received."""

    async def on_post(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"body": (await req.stream.read()).decode(),
                      "date": req.get_header("Date"), "signature": req.get_header("X-Hub-Signature"),
                      "authorization": req.get_header("Authorization")}


class _AsgiBot:
    """An ASGI application with a webhook's settings, as the kit reads them."""

    def __init__(self) -> None:
        self.private_keys = (KEY,)
        self.credentials = (USER, PASSWORD)
        self.clock = lambda: NOW
        self.router = Router()
        self._app = falcon.asgi.App()
        self._app.add_route("/", _Seen())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)


def test_client_also_sends_to_an_asgi_application() -> None:
    payload = notification(text="A-42", timestamp=1)
    answer = TestClient(_AsgiBot()).send(payload)
    assert answer.status_int == 200
    assert answer.json == {"body": encode(payload).decode(), "date": http_date(),
                           "signature": sign(encode(payload), KEY, http_date()),
                           "authorization": basic()}


def test_the_client_needs_no_webtest() -> None:
    script = (
        "import sys; sys.modules['webtest'] = None\n"
        "from clustaar.webhook import Webhook\n"
        "from clustaar.webhook.testing import TestClient, notification\n"
        "answer = TestClient(Webhook(request_max_age=None)).send(notification())\n"
        "print(answer.status_int, answer.json['title'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=os.environ)
    assert (done.returncode, done.stdout) == (0, "404 No route\n"), done.stderr


def test_the_kit_re_exports_the_platform_builders() -> None:
    for name in ("sign", "notification", "platform_headers", "http_date", "basic_auth", "encode",
                 "dump", "DEFAULT_STEP_ID"):
        assert getattr(testing, name) is getattr(platform, name)


# route()

def test_route_finds_what_the_pipeline_would_route_to() -> None:
    app = Webhook()
    welcome_back = app.on(events.CONVERSATION_STEP_REACHED,
                          filters=StepID("w") & JSONKeyEquals("data.session.values.known", True))(echo)
    app.on(events.CONVERSATION_STEP_REACHED, headers_seen, filters=StepID("w"))
    app.on("custom.topic", call)
    found = route(app, notification(step_id="w", session_values={"known": True}))
    assert found is not None and (found.topic, found.handler) == (
        events.CONVERSATION_STEP_REACHED, welcome_back)
    assert route(app, notification(step_id="w")).handler is headers_seen
    assert route(app, notification(step_id="other")) is None
    assert route(app, notification(topic="custom.topic")).handler is call
    assert route(app, notification(topic="unknown.topic")) is None


def test_route_runs_filters_on_the_request_handlers_get_and_no_handler() -> None:
    seen: list[Any] = []
    app = Webhook()
    app.on(events.CONVERSATION_STEP_REACHED, lambda *args: seen.append("handler"),
           filters=lambda request: seen.append((type(request), request.json, request.body)) or True)
    payload = notification(text="hi")
    assert route(app, payload) is app.routes[0]
    assert seen == [(Request, payload, encode(payload))]
    with pytest.raises(Rejection):
        route(app, b'{"no": "topic"}')


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
    with pytest.raises(Rejection):
        call(echo, b'{"topic": NaN}')
    del vector["data"]["step"]["id"]
    with pytest.raises(LoadError) as error:
        call(echo, vector)
    assert error.value.path == "data.step.id"


# Deadlines in the kit

def test_call_sets_the_deadline_a_handler_reads() -> None:
    def budget(request: Any, response: Any, notification: Any) -> float:
        return float(request.context.deadline.remaining())

    assert 0 < call(budget, notification(), deadline=2) <= 2
    assert call(budget, notification()) == float("inf")


def test_fallback_gives_what_a_late_handler_would_answer() -> None:
    app = Webhook()
    app.on(events.CONVERSATION_STEP_REACHED, lambda *args: None, filters=StepID("a"),
           fallback=lambda request, notification: {"route": "a"})
    app.on(events.CONVERSATION_STEP_REACHED, lambda *args: None)
    assert testing.fallback(app, notification(step_id="a")) == {"route": "a"}
    answer = dump(testing.fallback(app, notification(step_id="b", session_values={"n": 1})))
    assert answer == {"actions": [], "session": {"values": {"n": 1}}, "interlocutor": None}
    assert testing.fallback(app, notification(topic="other.topic")) is None


def test_the_client_sees_the_fallback_header() -> None:
    release, ended = threading.Event(), threading.Event()

    def late(*args: Any) -> None:
        release.wait(10)
        ended.set()

    app = Webhook(deadline=0.2)
    app.on(events.CONVERSATION_STEP_REACHED, late)
    answer = TestClient(app).send(notification())
    assert answer.headers["Clustaar-Webhook-Fallback"] == "deadline"
    release.set()  # The late handler ends, and is logged, within this test.
    assert ended.wait(10)
    time.sleep(0.05)
