"""What a handler's return value and response settings become on the wire (contract §1, §2 step 8)."""
from __future__ import annotations

import io
import json
import logging
from typing import Any, Callable

import falcon
import lupin
import pytest
from clustaar.schemas import v1
from clustaar.schemas.models import (
    ConversationSession,
    PauseBotAction,
    SendTextAction,
    StepReachedResponse,
)
from support.logs import served
from support.requests import client
from webtest import TestResponse

from clustaar.webhook import Webhook, events

pytestmark = pytest.mark.usefixtures("both_apps")

Handler = Callable[[Any, Any, Any], Any]
SERVER_ERROR = {"title": "Internal Server Error",
                "description": "The webhook failed to process this notification."}


def answer(handler: Handler, body: bytes, status: int = 200) -> TestResponse:
    """POST ``body`` to a webhook (checks off) whose one route is ``handler``."""
    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, handler)
    return client(app).post("/", body, headers={"Content-Type": "application/json"},
                            status=status)


def returning(result: Any) -> Handler:
    return lambda request, response, notification: result


def test_a_model_is_dumped_as_the_contract_success_example(vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> StepReachedResponse:
        return StepReachedResponse(actions=notification.event.step.actions,
                                   session=notification.event.session)

    response = answer(handler, vector_bytes)
    assert response.status_int == 200
    assert response.content_type == "application/json"
    assert json.loads(response.body) == {
        "actions": [{"type": "pause_bot_action"}],
        "session": {"values": {"name": "tintin"}},
        "interlocutor": None,
    }


def test_built_actions_and_a_new_session_are_dumped(vector_bytes: bytes) -> None:
    result = StepReachedResponse(
        actions=[SendTextAction(alternatives=["héllo", "bye"]), PauseBotAction()],
        session=ConversationSession(values={"name": "John", "n": 2}))
    body = json.loads(answer(returning(result), vector_bytes).body.decode("utf-8"))
    assert body["actions"] == [{"type": "send_text_action", "alternatives": ["héllo", "bye"]},
                               {"type": "pause_bot_action"}]
    assert body["session"] == {"values": {"name": "John", "n": 2}}


@pytest.mark.parametrize("result", [
    {"actions": [], "session": {"values": {"k": "ü €"}}, "nested": [1, 2.5, None, True]},
    [{"a": 1}, "two", 3],
    {},
    [],
    0,
    False,
    "",
])
def test_plain_json_values_are_sent_as_they_are(vector_bytes: bytes, result: Any) -> None:
    response = answer(returning(result), vector_bytes)
    assert response.status_int == 200  # a falsy result is still a result, not "no content"
    assert response.content_type == "application/json"
    assert json.loads(response.body.decode("utf-8")) == result


def test_a_model_inside_a_dict_is_dumped_in_place(vector_bytes: bytes) -> None:
    result = {"session": ConversationSession(values={"a": 1}), "extra": [PauseBotAction()]}
    assert answer(returning(result), vector_bytes).json == {
        "session": {"values": {"a": 1}}, "extra": [{"type": "pause_bot_action"}]}


def test_a_status_set_by_the_handler_is_kept(vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> dict[str, bool]:
        response.status = falcon.HTTP_201
        response.set_header("X-Bot", "yes")
        return {"created": True}

    response = answer(handler, vector_bytes, status=201)
    assert response.json == {"created": True}
    assert response.headers["X-Bot"] == "yes"
    assert response.content_type == "application/json"


def test_an_integer_status_set_by_the_handler_is_kept(vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> list[int]:
        response.status = 202
        return [1]

    assert answer(handler, vector_bytes, status=202).json == [1]


def test_none_with_nothing_set_is_204_keeping_headers(vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> None:
        response.set_header("X-Seen", notification.event.step.id)

    response = answer(handler, vector_bytes, status=204)
    assert response.body == b""
    assert response.headers["X-Seen"] == "1234"


@pytest.mark.parametrize("setting, content_type, body", [
    ("text", "text/plain", b"plain words"),
    ("data", "application/octet-stream", b"\x00\x01"),
    ("stream", "text/csv", b"a,b\r\n1,2\r\n"),
])
def test_none_with_a_body_set_sends_that_body(vector_bytes: bytes, setting: str,
                                              content_type: str, body: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> None:
        response.content_type = content_type
        value = {"text": body.decode(), "data": body, "stream": io.BytesIO(body)}[setting]
        setattr(response, setting, value)

    response = answer(handler, vector_bytes)
    assert response.body == body
    assert response.content_type == content_type


def test_none_with_media_set_sends_that_media_as_json(vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> None:
        response.media = {"from": "media"}

    response = answer(handler, vector_bytes)
    assert response.json == {"from": "media"}
    assert response.content_type == "application/json"


@pytest.mark.parametrize("status, code", [(falcon.HTTP_202, 202), (200, 200),
                                          (falcon.HTTP_200, 200)])
def test_none_with_a_status_set_keeps_that_status(vector_bytes: bytes, status: Any,
                                                  code: int) -> None:
    def handler(request: Any, response: Any, notification: Any) -> None:
        response.status = status

    assert answer(handler, vector_bytes, status=code).body == b""


def test_none_with_status_and_body_set_sends_both(vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> None:
        response.status = falcon.HTTP_409
        response.media = {"conflict": True}

    assert answer(handler, vector_bytes, status=409).json == {"conflict": True}


@pytest.mark.parametrize("setting, stale", [("text", "stale"), ("media", ["stale"]),
                                            ("data", b"stale"), ("stream", b"stale")])
def test_a_returned_value_wins_over_a_body_the_handler_set(vector_bytes: bytes, setting: str,
                                                           stale: Any) -> None:
    def handler(request: Any, response: Any, notification: Any) -> dict[str, str]:
        setattr(response, setting, io.BytesIO(stale) if setting == "stream" else stale)
        return {"returned": "wins"}

    response = answer(handler, vector_bytes)
    assert response.json == {"returned": "wins"}
    assert response.content_type == "application/json"


@pytest.mark.parametrize("result", [
    object(),
    {"x": float("nan")},
    {"x": [float("inf")]},
    b"bytes",
    {1, 2},
    {"when": __import__("datetime").datetime(2026, 1, 1)},
])
def test_a_result_that_cannot_be_serialised_is_a_logged_500(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture, result: Any) -> None:
    with caplog.at_level(logging.ERROR, logger="clustaar.webhook"):
        response = answer(returning(result), vector_bytes, status=500)
    assert response.content_type == "application/json"
    assert response.json == SERVER_ERROR
    errors = [record for record in caplog.records
              if record.name == "clustaar.webhook" and record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_a_handler_that_raises_is_a_logged_500_without_details(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: Any, response: Any, notification: Any) -> None:
        raise RuntimeError("secret internal detail")

    with caplog.at_level(logging.ERROR, logger="clustaar.webhook"):
        response = answer(handler, vector_bytes, status=500)
    assert response.json == SERVER_ERROR
    assert b"secret internal detail" not in response.body
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is RuntimeError


def test_a_failed_render_leaves_no_partial_body(vector_bytes: bytes) -> None:
    # The handler set a body, then returned something unserialisable: the answer
    # is the error, not the handler's half-made response.
    def handler(request: Any, response: Any, notification: Any) -> Any:
        response.set_header("X-Partial", "1")
        response.text = "half"
        return {"bad": object()}

    assert answer(handler, vector_bytes, status=500).json == SERVER_ERROR


def test_a_lone_surrogate_from_the_request_is_echoed_as_valid_json() -> None:
    # JSON may escape a lone UTF-16 surrogate; Python decodes it to a str that
    # cannot be encoded as UTF-8, so the answer must escape it again.
    body = b'{"topic": "ping", "x": "\\ud800 caf\xc3\xa9"}'
    app = Webhook(request_max_age=None)
    app.on("ping", lambda request, response, notification: {"echo": request.json["x"]})
    response = client(app).post("/", body, headers={"Content-Type": "application/json"})
    assert response.status_int == 200
    assert response.json == {"echo": "\ud800 café"}


def _set(attribute: str, value: Any) -> Handler:
    def handler(request: Any, response: Any, notification: Any) -> None:
        response.set_header("X-Kept", "never")  # A failed answer carries none of these.
        setattr(response, attribute, value)
    return handler


def _header(name: str, value: str) -> Handler:
    return lambda request, response, notification: response.set_header(name, value)


@pytest.mark.parametrize("handler", [
    _set("status", 1000), _set("status", 999), _set("status", 0), _set("status", 99),
    _set("status", "abc"), _set("status", None), _set("status", "200 OK\r\nX-Injected: 1"),
    _set("status", "2000 Too Big"), _set("media", {1, 2}), _set("media", float("nan")),
    _set("media", {"deep": [float("-inf")]}), _set("text", 42),
    _header("X-Split", "a\r\nX-Injected: 1"), _header("X-Split", "a\nb"),
    _header("X-Euro", "10 €"), _header("X-Nul", "a\x00b"), _header("Bad Name", "v"),
], ids=["1000", "999", "0", "99", "abc", "None", "crlf-status", "2000", "media-set",
        "media-nan", "media-inf", "text-int", "crlf-header", "lf-header", "non-latin-1",
        "nul", "space-in-name"])
def test_a_response_the_handler_left_unsendable_is_our_json_500(
        vector_bytes: bytes, caplog: pytest.LogCaptureFixture, handler: Handler) -> None:
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        response = answer(handler, vector_bytes, status=500)
    assert response.content_type == "application/json"
    assert response.json == SERVER_ERROR
    assert "X-Kept" not in response.headers and "X-Injected" not in response.headers
    [record] = served(caplog.records)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    name = f"{handler.__module__}.{handler.__qualname__}"
    assert record.getMessage() == f"handler {name} failed for step '1234'"


@pytest.mark.parametrize("status, code", [(100 + 99, 199), (599, 599), ("404 Not Found", 404),
                                          (__import__("http").HTTPStatus.CREATED, 201)])
def test_every_status_from_100_to_599_is_sent(vector_bytes: bytes, status: Any,
                                              code: int) -> None:
    handler = _set("status", status)
    assert answer(handler, vector_bytes, status=code).headers["X-Kept"] == "never"


def test_media_with_another_content_type_goes_through_its_media_handler(
        vector_bytes: bytes) -> None:
    def handler(request: Any, response: Any, notification: Any) -> None:
        response.content_type = falcon.MEDIA_URLENCODED
        response.media = {"a": "1 2"}

    assert answer(handler, vector_bytes).body == b"a=1+2"


#: A mapper of its own for the reference dumps: lupin's lookups register what they meet.
STOCK = v1.get_mapper(factory=lupin.constructor)


class _Label(str):
    """A str subclass: the stdlib encoder writes its text."""


class _Colour(__import__("enum").Enum):
    RED = "red"


@pytest.mark.parametrize("values", [
    {"x": float("nan")}, {"x": [1.5, float("-inf")]}, {"x": {1, 2}}, {"x": (1, "two")},
    {"x": __import__("datetime").date(2026, 1, 1)}, {"x": __import__("uuid").UUID(int=7)},
    {"x": _Colour.RED}, {"x": _Label("label")}, {1: "int key"}, {"x": {None: 1, 2.5: 2}},
    {"x": 2 ** 70}, {"x": -(2 ** 64)}, {"x": "\ud800 lone"}, {"x": "caf\u00e9 \u2028"},
    {"x": b"bytes"}, {"x": {"deep": [{"deeper": [float("nan")]}]}}, {"x": 1e16, "y": -0.0},
    {"x": PauseBotAction()},
], ids=lambda values: type(next(iter(values.values()))).__name__)
def test_a_model_answer_is_what_the_stdlib_encoder_makes_of_it(
        vector_bytes: bytes, values: dict[Any, Any]) -> None:
    # Whatever a model holds, the answer is the stdlib encoder's (with the stock mapper's
    # dump for models), or a 500 where it refuses: the fast encoder never decides alone.
    result = StepReachedResponse(actions=[], session=ConversationSession(values=values))
    try:
        expected = json.loads(json.dumps(result, allow_nan=False, default=STOCK.dump))
    except Exception:  # The stdlib's refusal, or the stock dump's.
        expected = None
    response = answer(returning(result), vector_bytes, status=200 if expected else 500)
    assert response.json == (expected or SERVER_ERROR)
