"""The ``Webhook`` class: constructor contract, middlewares, WSGI, mounting, handler arguments."""
from __future__ import annotations

import inspect
import io
import json
import time
import wsgiref.util
from collections.abc import Iterable
from typing import Any, Callable

import falcon
import pytest
from clustaar.schemas.models import ConversationSession
from support import KEY, NOW, PASSWORD, USER
from support.logs import served
from support.requests import basic, client, http_date, signed_headers
from webtest import TestApp

from clustaar.webhook import AsyncWebhook, Webhook, events
from clustaar.webhook.filters import StepID

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
JSON = {"Content-Type": "application/json"}


def echo_session(request: Any, response: Any, notification: Any) -> Any:
    return notification.event.session


# --- Constructor -------------------------------------------------------------


def test_constructor_signature_order_and_defaults() -> None:
    parameters = list(inspect.signature(Webhook).parameters.values())
    positional = [(p.name, p.default) for p in parameters
                  if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert positional == [("auth_username", None), ("auth_password", None),
                          ("private_key", None), ("middlewares", None),
                          ("request_max_age", 10)]
    keyword_only = {p.name: p.default for p in parameters
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert keyword_only == {"max_body_size": 1048576, "clock": time.time, "max_threads": 32,
                            "deadline": None, "fallback": None, "on_error": "raise",
                            "deliveries": None, "delivery_key": None, "delivery_ttl": None,
                            "on_store_error": "accept", "health_path": None,
                            "metrics_path": None, "metrics": None}
    assert inspect.signature(AsyncWebhook) == inspect.signature(Webhook)


def test_events_constant() -> None:
    assert events.CONVERSATION_STEP_REACHED == "conversation.step_reached"


class Recorder:
    """A Falcon middleware that records what it sees and marks the answer (with the
    ``_async`` methods an ASGI app calls, as Falcon's middlewares for both apps have)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.seen.append(("request", req.method, req.path))

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        self.seen.append(("response", req.method, str(resp.status)))
        resp.set_header("X-Middleware", "ran")

    async def process_request_async(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.process_request(req, resp)

    async def process_response_async(self, req: falcon.Request, resp: falcon.Response,
                                     resource: Any, req_succeeded: bool) -> None:
        self.process_response(req, resp, resource, req_succeeded)


def test_positional_arguments_keep_their_order(vector_bytes: bytes) -> None:
    recorder = Recorder()
    app = Webhook(USER, PASSWORD, KEY, [recorder], 5, clock=lambda: NOW)
    app.on(STEP, echo_session)
    web = client(app)

    def headers(date: float = NOW, auth: str = basic()) -> dict[str, str]:
        return signed_headers(vector_bytes, date=http_date(date), auth=auth)

    assert web.post("/", vector_bytes, headers=headers()).json == {"values": {"name": "tintin"}}
    # auth_username/auth_password (1st, 2nd): wrong password is refused.
    web.post("/", vector_bytes, headers=headers(auth=basic(USER, "nope")), status=403)
    web.post("/", vector_bytes, headers=headers(auth=basic("nope", PASSWORD)), status=403)
    # private_key (3rd): another key's signature is refused.
    refused = web.post("/", vector_bytes, status=400, headers={
        **signed_headers(vector_bytes, key="other", auth=basic())})
    assert refused.json["description"].endswith("The request's signature is invalid.")
    # request_max_age (5th): 5 seconds, not the default 10.
    web.post("/", vector_bytes, headers=headers(NOW - 5))
    too_old = web.post("/", vector_bytes, headers=headers(NOW - 6), status=400)
    assert too_old.json["description"] == "Request is too old"
    # middlewares (4th): ran for every request, accepted or not.
    assert recorder.seen[:2] == [("request", "POST", "/"), ("response", "POST", "200 OK")]
    assert len(recorder.seen) == 2 * 6


def test_defaults_need_no_secret_but_check_the_date(vector_bytes: bytes) -> None:
    app = Webhook()
    app.on(STEP, echo_session)
    web = client(app)
    now = time.time()
    answer = web.post("/", vector_bytes, headers={**JSON, "Date": http_date(now)})
    assert answer.json == {"values": {"name": "tintin"}}  # no signature, no auth needed
    missing = web.post("/", vector_bytes, headers=JSON, status=400)
    assert missing.json["description"] == "The request's Date header is missing."
    old = web.post("/", vector_bytes, headers={**JSON, "Date": http_date(now - 30)}, status=400)
    assert old.json["description"] == "Request is too old"


@pytest.mark.parametrize("options", [
    {"auth_username": USER},
    {"auth_password": PASSWORD},
    {"auth_username": USER, "auth_password": None},
    {"auth_username": "", "auth_password": PASSWORD},
    {"auth_username": USER, "auth_password": ""},
    {"auth_username": "", "auth_password": ""},
    {"private_key": ""},
    {"private_key": ["good", ""]},
    {"private_key": []},
    {"request_max_age": -1},
    {"request_max_age": -0.5},
    {"max_body_size": -1},
    {"max_body_size": 0},
    {"max_threads": 0},
])
def test_configuration_mistakes_raise_value_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Webhook(**options)


@pytest.mark.parametrize("options, message", [
    ({"request_max_age": "10"},
     "request_max_age must be a number of seconds or None, not '10'"),
    ({"request_max_age": True}, "request_max_age must be a number of seconds or None, not True"),
    ({"request_max_age": float("nan")},
     "request_max_age must be a number of seconds or None, not nan"),
    ({"max_body_size": 1.5}, "max_body_size must be a whole number above 0 or None, not 1.5"),
    ({"max_body_size": "1MB"},
     "max_body_size must be a whole number above 0 or None, not '1MB'"),
    ({"max_threads": None}, "max_threads must be a whole number above 0, not None"),
    ({"clock": 5}, "clock must be a function returning POSIX seconds, not 5"),
])
def test_mistyped_options_say_what_is_expected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError) as error:
        Webhook(**options)
    assert str(error.value) == message


def test_ranges_are_named_in_the_message() -> None:
    with pytest.raises(ValueError, match=r"^max_body_size must be a whole number above 0 or "
                                         r"None; got 0$"):
        Webhook(max_body_size=0)
    with pytest.raises(ValueError, match=r"^request_max_age must be 0 or more seconds"):
        Webhook(request_max_age=-1)


def test_a_zero_replay_window_is_accepted(vector_bytes: bytes) -> None:
    """``request_max_age=0``: only a request dated this very second passes."""
    app = Webhook(request_max_age=0, clock=lambda: NOW)
    app.on(STEP, echo_session)
    web = client(app)
    web.post("/", vector_bytes, headers={"Date": http_date(NOW)}, status=200)
    web.post("/", vector_bytes, headers={"Date": http_date(NOW - 1)}, status=400)


def test_a_string_as_filters_is_refused_with_the_fix() -> None:
    app = Webhook()
    with pytest.raises(TypeError, match=r"did you mean StepID\('5c1b'\)\?"):
        app.on(events.CONVERSATION_STEP_REACHED, echo_session, filters="5c1b")


def test_an_unknown_topic_is_warned_at_registration(caplog: pytest.LogCaptureFixture) -> None:
    app = Webhook()
    with caplog.at_level("WARNING", logger="clustaar.webhook"):
        app.on("conversation.step_reachd", echo_session)
        app.on(events.CONVERSATION_STEP_REACHED, echo_session)
    [record] = served(caplog.records)
    assert "'conversation.step_reachd'" in record.getMessage()
    assert "conversation.step_reached" in record.getMessage()


def test_both_credentials_enable_basic_auth(vector_bytes: bytes) -> None:
    app = Webhook(auth_username=USER, auth_password=PASSWORD, request_max_age=None)
    app.on(STEP, echo_session)
    web = client(app)
    web.post("/", vector_bytes, headers=JSON, status=403)
    web.post("/", vector_bytes, headers={**JSON, "Authorization": basic()})


def test_a_list_of_keys_accepts_any_of_them(vector_bytes: bytes) -> None:
    app = Webhook(private_key=["old", "new"], clock=lambda: NOW)
    app.on(STEP, echo_session)
    web = client(app)
    for key in ("old", "new"):
        web.post("/", vector_bytes, headers=signed_headers(vector_bytes, key=key))
    web.post("/", vector_bytes, headers=signed_headers(vector_bytes, key="other"), status=400)


def test_middlewares_see_the_request_and_can_change_the_answer(vector_bytes: bytes) -> None:
    first, second = Recorder(), Recorder()
    app = Webhook(middlewares=[first, second], request_max_age=None)
    app.on(STEP, echo_session)
    answer = client(app).post("/", vector_bytes, headers=JSON)
    assert answer.headers["X-Middleware"] == "ran"
    assert first.seen == second.seen == [("request", "POST", "/"),
                                         ("response", "POST", "200 OK")]


def test_a_middleware_can_reject_with_a_json_error(vector_bytes: bytes) -> None:
    class Gate:
        def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
            raise falcon.HTTPUnauthorized(title="Closed", description="Gate is closed.")

        async def process_request_async(self, req: falcon.Request,
                                        resp: falcon.Response) -> None:
            self.process_request(req, resp)

    called: list[int] = []
    app = Webhook(middlewares=(gate for gate in [Gate()]), request_max_age=None)
    app.on(STEP, lambda request, response, notification: called.append(1))
    answer = client(app).post("/", vector_bytes, headers=JSON, status=401)
    assert answer.json == {"title": "Closed", "description": "Gate is closed."}
    assert called == []


# --- WSGI --------------------------------------------------------------------


def call_wsgi(app: Callable[..., Iterable[bytes]], body: bytes, **environ: str
              ) -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI application by hand, as a server would; header names come back lowercase."""
    env: dict[str, Any] = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
                           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                           **environ}
    wsgiref.util.setup_testing_defaults(env)
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.append((status, {name.lower(): value for name, value in headers}))

    chunks = app(env, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return started[0][0], started[0][1], payload


def test_the_instance_is_a_wsgi_application(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, echo_session)
    status, headers, body = call_wsgi(app, vector_bytes, PATH_INFO="/")
    assert status == "200 OK"
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"values": {"name": "tintin"}}


def mounted_under_bot(app: Webhook) -> Callable[..., Iterable[bytes]]:
    """A WSGI dispatcher that mounts ``app`` at ``/bot``, as a server's prefix would."""
    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/bot" or path.startswith("/bot/"):
            wsgiref.util.shift_path_info(environ)  # "/bot/x" -> SCRIPT_NAME "/bot", PATH_INFO "/x"
            return app(environ, start_response)
        start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
        return [b"not the bot"]
    return dispatch


def test_mounted_under_a_prefix_it_answers_there_and_404s_below(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    app.on(STEP, echo_session)
    web = TestApp(mounted_under_bot(app))
    for path in ("/bot", "/bot/"):
        answer = web.post(path, vector_bytes, headers=JSON)
        assert answer.json == {"values": {"name": "tintin"}}
    for path in ("/bot/x", "/bot/x/", "/bot/1234/"):
        below = web.post(path, vector_bytes, headers=JSON, status=404)
        assert below.content_type == "application/json"
        assert set(below.json) == {"title", "description"}
    web.get("/bot/", status=405)


def test_script_name_from_the_server(vector_bytes: bytes) -> None:
    app = Webhook(request_max_age=None)
    seen: list[str] = []

    def handler(request: Any, response: Any, notification: Any) -> dict[str, str]:
        seen.append(request.root_path)
        return {"path": request.path}

    app.on(STEP, handler)
    status, _, body = call_wsgi(app, vector_bytes, SCRIPT_NAME="/bot", PATH_INFO="")
    assert (status, json.loads(body), seen) == ("200 OK", {"path": "/"}, ["/bot"])
    status, headers, body = call_wsgi(app, vector_bytes, SCRIPT_NAME="/bot", PATH_INFO="/more")
    assert status.startswith("404")
    assert headers["content-type"].startswith("application/json")


# --- What handlers receive ---------------------------------------------------


def test_handler_receives_parsed_json_raw_body_and_the_loaded_notification(
        vector_bytes: bytes, vector: dict[str, Any]) -> None:
    seen: dict[str, Any] = {}

    def spy_filter(request: Any) -> bool:
        seen["filter_json"] = request.json
        return True

    def handler(request: Any, response: Any, notification: Any) -> None:
        seen.update(request=request, response=response, notification=notification,
                    json=request.json, json_again=request.json,
                    bodies=[request.body, request.body, request.body])

    app = Webhook(request_max_age=None)
    app.on(STEP, handler, filters=spy_filter)
    client(app).post("/", vector_bytes, headers=JSON, status=204)

    assert isinstance(seen["request"], falcon.Request)
    assert isinstance(seen["response"], falcon.Response)
    assert isinstance(seen["json"], dict) and seen["json"] == vector
    assert seen["json"] is seen["json_again"] is seen["filter_json"]  # parsed once
    assert seen["bodies"] == [vector_bytes] * 3
    assert all(type(body) is bytes for body in seen["bodies"])

    notification = seen["notification"]
    assert type(notification).__name__ == "WebhookRequest"
    assert (notification.topic, notification.bot_id, notification.timestamp) == (
        STEP, "4321", 1514998709)
    event = notification.event
    assert type(event).__name__ == "StepReached"
    assert event.step.id == "1234"
    assert [type(action).__name__ for action in event.step.actions] == ["PauseBotAction"]
    assert event.session.values == {"name": "tintin"}
    assert event.interlocutor.id == "123"
    assert event.channel == "facebook"


def test_mutating_the_session_and_returning_it(vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> ConversationSession:
        values = notification.event.session.values
        values["visits"] = values.get("visits", 0) + 1
        values["name"] = values["name"].upper()
        return notification.event.session  # type: ignore[no-any-return]

    app = Webhook(request_max_age=None)
    app.on(STEP, handler)
    answer = client(app).post("/", vector_bytes, headers=JSON)
    assert answer.json == {"values": {"name": "TINTIN", "visits": 1}}


def test_each_request_gets_its_own_notification(vector: dict[str, Any]) -> None:
    # A mutation made by one request's handler never leaks into the next.
    def handler(request: Any, response: Any, notification: Any) -> ConversationSession:
        notification.event.session.values.setdefault("seen", []).append(request.json["n"])
        return notification.event.session  # type: ignore[no-any-return]

    app = Webhook(request_max_age=None)
    app.on(STEP, handler, filters=StepID("1234"))
    web = client(app)
    for number in range(3):
        body = json.dumps({**vector, "n": number}).encode()
        assert web.post("/", body, headers=JSON).json["values"]["seen"] == [number]


def test_the_settings_stay_readable_for_tools() -> None:
    def clock() -> float:
        return 1.0
    app = Webhook("u", "p:w", ["k1", "k2"], None, 30, max_body_size=10, clock=clock)
    assert app.private_keys == ("k1", "k2")
    assert app.credentials == ("u", "p:w")
    assert (app.request_max_age, app.max_body_size, app.clock) == (30, 10, clock)
    bare = Webhook()
    assert bare.private_keys == () and bare.credentials is None


@pytest.mark.parametrize("options, message", [
    ({"private_key": b"key"}, "private_key must be a string, a list or tuple of strings, or None"),
    ({"private_key": 5}, "private_key must be a string, a list or tuple of strings, or None"),
    ({"middlewares": 5}, "middlewares must be a list of Falcon middleware objects or None"),
])
def test_secrets_and_middlewares_of_the_wrong_type(options: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Webhook(**options)
