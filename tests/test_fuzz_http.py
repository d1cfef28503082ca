"""Hostile input at the HTTP boundary: every request gets a deliberate answer.

The app has every check on (replay window with a fixed clock, signature, Basic
auth) and answers ``conversation.step_reached``; a step id of ``boom`` makes
its handler fail, the one request allowed a 5xx. Requests go through webtest
where it lets them, and as raw WSGI calls for what it refuses (non-ASCII
headers, lying Content-Length, chunked bodies). Under the "ci" hypothesis
profile the module sends more than 10,000 requests; the budget fixture checks it.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, Optional

import pytest
from clustaar.schemas.models import StepReachedResponse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import DATA, KEY, NOW, PASSWORD, USER, profiles, wsgi
from support.requests import basic
from support.strategies import (
    ALGORITHMS,
    FORMATS,
    JSON_VALUES,
    NOTIFICATIONS,
    SAFE_NOTIFICATIONS,
    SCHEMES,
    WINDOW,
    YEAR_1,
    YEAR_10000,
    dated,
    depth,
    hostile_headers,
    signature_value,
)
from support.wsgi import Answer
from webtest import TestApp

from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import StepID

MAX_DEPTH = 64
MIN_REQUESTS = 10_000
SENT: Counter[str] = Counter()
SIGNATURE_PREFIX = 'The value provided for the "X-Hub-Signature" header is invalid. '
VECTOR = json.loads((DATA / "step_reached_minimal.json").read_bytes())

# --- The application and how requests reach it ---------------------------------


def _echo(request: Any, response: Any, notification: Any) -> Any:
    return StepReachedResponse(actions=notification.event.step.actions,
                               session=notification.event.session)


def _boom(request: Any, response: Any, notification: Any) -> Any:
    raise RuntimeError("deliberate handler failure")


def make_app(**options: Any) -> Webhook:
    """Every check on, a fixed clock, a failing route for step ``boom`` and an echo."""
    app = Webhook(auth_username=USER, auth_password=PASSWORD, private_key=KEY,
                  clock=lambda: NOW, **options)
    app.on(events.CONVERSATION_STEP_REACHED, _boom, filters=StepID("boom"))
    app.on(events.CONVERSATION_STEP_REACHED, _echo)
    return app


APP = make_app()
WEBTEST = TestApp(APP)


def call(app: Any, body: bytes = b"", headers: Optional[Mapping[str, str]] = None,
         **options: Any) -> Answer:
    """One raw WSGI call (see ``support.wsgi.call``), counted in the budget."""
    SENT["raw"] += 1
    return wsgi.call(app, body, headers, **options)


def post(body: bytes, headers: Mapping[str, str]) -> Answer:
    """A POST through webtest (with its WSGI lint)."""
    res = WEBTEST.post("/", body, headers=dict(headers), expect_errors=True)
    SENT["webtest"] += 1
    return Answer(res.status_int, {k.lower(): v for k, v in res.headerlist}, res.body)


def reaches_failing_handler(body: bytes) -> bool:
    """Whether ``body`` is routed to the handler that fails (step id ``boom``)."""
    try:
        return bool(json.loads(body)["data"]["step"]["id"] == "boom")
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return False


def assert_deliberate(answer: Answer, body: bytes, method: str = "POST") -> None:
    """Never a 5xx but the handler failure; every error is JSON title + description."""
    if answer.status >= 500:
        assert reaches_failing_handler(body), answer
        assert answer.status == 500 and answer.json() == {
            "title": "Internal Server Error",
            "description": "The webhook failed to process this notification."}
    if 200 <= answer.status < 300:
        return
    assert answer.headers["content-type"].startswith("application/json")
    if method == "HEAD":
        assert answer.body == b""  # HTTP: never a body on HEAD.
        return
    error = answer.json()
    assert set(error) == {"title", "description"}
    assert all(isinstance(v, str) and v for v in error.values())


def signed(body: bytes) -> dict[str, str]:
    """Valid headers (Date, signature, Basic) for ``body``."""
    date = dated(NOW)
    return {"Date": date, "X-Hub-Signature": signature_value(body, date),
            "Authorization": basic(), "Content-Type": "application/json"}


@pytest.fixture(scope="module", autouse=True)
def request_budget(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a full, green run of this module under "ci", at least 10,000 requests were sent."""
    failed = request.session.testsfailed
    yield
    ours = {item.originalname for item in request.session.items
            if isinstance(item, pytest.Function) and item.module is request.module}
    full_run = ours >= {name for name in globals() if name.startswith("test_")}
    if full_run and request.session.testsfailed == failed and profiles.full():
        assert sum(SENT.values()) >= MIN_REQUESTS, SENT


@given(method=st.sampled_from(["POST", "GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS",
                               "TRACE", "CONNECT", "post", "PROPFIND"])
       | st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12),
       path=st.sampled_from(["/", "", "//", "/webhook", "/?x"])
       | st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=30),
       notification=NOTIFICATIONS)
def test_any_method_and_path(method: str, path: str, notification: bytes) -> None:
    answer = call(APP, notification, signed(notification), method=method, path=path)
    assert_deliberate(answer, notification, method)
    if path not in ("", "/"):
        assert answer.status == 404
    elif method != "POST":
        assert answer.status == 405 and answer.headers["allow"] == "POST"
    else:
        assert answer.status == (500 if reaches_failing_handler(notification) else 200)


@given(body=SAFE_NOTIFICATIONS, data=st.data())
def test_hostile_headers_answer_in_check_order(body: bytes, data: Any) -> None:
    """Date, then signature, then Basic auth: the first failure answers, exactly as specified."""
    headers, date_verdict, signature_verdict, auth_ok = data.draw(hostile_headers(body))
    answer = call(APP, body, headers)
    assert_deliberate(answer, body)
    error = answer.json() if answer.status != 200 else None
    if date_verdict:
        assert (answer.status, error) == (400, {"title": "400 Bad Request",
                                                "description": date_verdict})
    elif signature_verdict:
        assert (answer.status, error) == (400, {"title": "Invalid header value",
                                                "description": SIGNATURE_PREFIX + signature_verdict})
    elif not auth_ok:
        assert (answer.status, error) == (403, {"title": "Invalid credentials",
                                                "description": "This call needs authentication"})
    else:
        assert answer.status == 200


def _strict(text: str) -> Any:
    def reject(name: str) -> Any:
        raise ValueError(name)
    return json.loads(text, parse_constant=reject)


def expected_for(body: bytes) -> Optional[int]:
    """The status the contract fixes for a signed ``body``, or None when loading decides."""
    try:
        document = _strict(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return 400
    if depth(document) > MAX_DEPTH or not isinstance(document, dict) \
            or not isinstance(document.get("topic"), str):
        return 400
    return None if document["topic"] == events.CONVERSATION_STEP_REACHED else 404


def _with_topic(topic: Any) -> bytes:
    return json.dumps({"topic": topic, "data": {}}).encode()


@given(body=st.binary(max_size=300)
       | JSON_VALUES.map(lambda value: json.dumps(value).encode())
       | JSON_VALUES.map(_with_topic)
       | st.tuples(NOTIFICATIONS, st.integers(0, 2000)).map(lambda pair: pair[0][:pair[1]])
       | st.sampled_from([b"NaN", b'{"topic": "x", "n": Infinity}', b"\xef\xbb\xbf{}",
                          '{"topic": "é"}'.encode("utf-16"), b"", b"{", b'{"topic": "a"} x',
                          b'{"topic": "t", "n": ' + b"9" * 5000 + b"}"]))
def test_hostile_bodies(body: bytes) -> None:
    answer = call(APP, body, signed(body))
    assert_deliberate(answer, body)
    expected = expected_for(body)
    if expected is not None:
        assert answer.status == expected
        assert answer.json()["title"] == ("Invalid JSON" if expected == 400 else "No route")
    else:
        assert answer.status in (200, 400, 500)
        if answer.status == 400:
            assert answer.json()["title"] == "Invalid notification"


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if prefix:
        yield prefix
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _paths(item, prefix + (str(key),))


#: What the contract says handlers rely on: (dotted path, JSON type it must have).
REQUIRED = {"data": dict, "data.step": dict, "data.step.actions": list, "data.session": dict,
            "data.session.values": dict, "data.interlocutor": dict}


@given(path=st.sampled_from(sorted(_paths(VECTOR))), replacement=JSON_VALUES | st.just(KeyError))
def test_wrong_type_at_every_field(path: tuple[str, ...], replacement: Any) -> None:
    """Any field of the vector replaced by any JSON value (or removed): a deliberate answer."""
    document = json.loads(json.dumps(VECTOR))
    parent = document
    for key in path[:-1]:
        parent = parent[int(key) if isinstance(parent, list) else key]
    last: Any = int(path[-1]) if isinstance(parent, list) else path[-1]
    if replacement is KeyError:
        del parent[last]
    else:
        parent[last] = replacement
    body = json.dumps(document).encode()
    answer = call(APP, body, signed(body))
    assert_deliberate(answer, body)
    dotted = ".".join(path)
    if dotted in REQUIRED and not isinstance(replacement, REQUIRED[dotted]):
        assert answer.status == 400
        assert f'"{dotted}"' in answer.json()["description"]
    expected = expected_for(body)
    assert answer.status == expected if expected else answer.status in (200, 400, 500)


@given(levels=st.integers(1, 140), brackets=st.sampled_from(["[]", "{}"]),
       where=st.sampled_from(["values", "top"]), text=st.text("[]{}\"\\ ", max_size=200))
def test_nesting_limit(levels: int, brackets: str, where: str, text: str) -> None:
    """Deeper than 64 levels: 400; brackets inside strings never count."""
    nested: Any = text
    for _ in range(levels):
        nested = [nested] if brackets == "[]" else {"k": nested}
    document = json.loads(json.dumps(VECTOR))
    (document["data"]["session"]["values"] if where == "values" else document)["deep"] = nested
    body = json.dumps(document).encode()
    answer = call(APP, body, signed(body))
    assert_deliberate(answer, body)
    if depth(document) > MAX_DEPTH:
        assert (answer.status, answer.json()["title"]) == (400, "Invalid JSON")
    else:
        assert answer.status == 200
        if where == "values":
            assert answer.json()["session"]["values"]["deep"] == nested


def test_pathological_nesting_is_400() -> None:
    for body in (b"[" * 100_000, b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 30_000):
        answer = call(APP, body, signed(body))
        assert (answer.status, answer.json()["title"]) == (400, "Invalid JSON")


@given(body=NOTIFICATIONS, header_options=st.fixed_dictionaries({
    "algorithm": st.sampled_from(ALGORITHMS),
    "upper_algorithm": st.booleans(), "upper_digest": st.booleans()}),
    offset=st.integers(-WINDOW, WINDOW), form=st.sampled_from(FORMATS), scheme=SCHEMES)
def test_valid_signed_requests_are_accepted(body: bytes, header_options: dict[str, Any],
                                            offset: int, form: str, scheme: str) -> None:
    """Any valid notification, any accepted algorithm, case, Date format and age: 200."""
    date = dated(NOW + offset, form)
    headers = {"Date": date, "X-Hub-Signature": signature_value(body, date, **header_options),
               "Authorization": scheme + basic()[len("Basic"):]}
    answer = post(body, headers)
    assert_deliberate(answer, body)
    document = json.loads(body)
    if document["data"]["step"]["id"] == "boom":
        assert answer.status == 500
        return
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/json")
    result = answer.json()
    assert result["session"] == document["data"]["session"]
    assert [a["type"] for a in result["actions"]] == \
        [a["type"] for a in document["data"]["step"]["actions"]]


def _change(value: bytes, index: int, byte: int) -> bytes:
    index %= len(value)
    replacement = byte if byte != value[index] else (byte + 1) % 256
    return value[:index] + bytes([replacement]) + value[index + 1:]


# Header bytes a server can deliver: visible latin-1 and space (no controls).
HEADER_BYTES = st.sampled_from([b for b in range(32, 256) if b != 127 and not 128 <= b < 160])


@given(body=SAFE_NOTIFICATIONS, at=st.integers(0, 10_000),
       byte=st.integers(0, 255), header_byte=HEADER_BYTES)
def test_any_single_changed_byte_is_rejected(body: bytes, at: int, byte: int,
                                             header_byte: int) -> None:
    """Same request, one byte of the body, the Date or the signature changed: 400."""
    headers = signed(body)
    assert call(APP, body, headers).status == 200
    changed = call(APP, _change(body, at, byte), headers)
    assert changed.json() == {"title": "Invalid header value",
                              "description": SIGNATURE_PREFIX + "The request's signature is invalid."}
    date = _change(headers["Date"].encode("latin-1"), at, header_byte).decode("latin-1")
    answer = call(APP, body, {**headers, "Date": date})
    assert_deliberate(answer, body)
    assert answer.status == 400
    signature = headers["X-Hub-Signature"].encode("latin-1")
    new = _change(signature, at, header_byte)
    # Hex digits and the algorithm name are case-insensitive: a case flip is the same value.
    if new.lower() != signature.lower():
        answer = call(APP, body, {**headers, "X-Hub-Signature": new.decode("latin-1")})
        assert answer.status == 400 and answer.json()["title"] == "Invalid header value"


@given(body=SAFE_NOTIFICATIONS,
       length=st.integers(-5, 5_000).map(str)
       | st.sampled_from(["abc", "1e3", "0x10", " ", " 5 ", "9" * 30, "+5", "-0", "1_0", "٣"])
       | st.none(),
       terminated=st.booleans())
def test_lying_content_length(body: bytes, length: Optional[str], terminated: bool) -> None:
    answer = call(APP, body, signed(body), content_length=length, terminated=terminated)
    assert_deliberate(answer, body)
    title = answer.json().get("title") if answer.status != 200 else None
    if length is None:  # Chunked: read to the end only if the server says where it is.
        assert (answer.status, title) == ((200, None) if terminated
                                          else (400, "Invalid header value"))  # No body: unsigned.
    elif not re.fullmatch(r"[0-9]+", length):
        assert (answer.status, title) == (400, "Invalid header value")  # Not 1*DIGIT.
    elif int(length) > 1024 * 1024:
        assert (answer.status, title) == (413, "Request body too large")  # Refused unread.
    elif int(length) > len(body):
        assert (answer.status, title) == (400, "Invalid request body")  # The stream ended first.
    elif int(length) < len(body):
        assert (answer.status, title) == (400, "Invalid header value")  # Truncated: bad signature.
    else:
        assert answer.status == 200


SMALL_LIMIT = 2048
SMALL_APP = make_app(max_body_size=SMALL_LIMIT)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=SAFE_NOTIFICATIONS, padding=st.integers(0, 3000), chunked=st.booleans())
def test_body_size_limit(body: bytes, padding: int, chunked: bool) -> None:
    body += b" " * padding  # Trailing whitespace keeps the JSON valid.
    answer = call(SMALL_APP, body, signed(body), content_length=None if chunked else "",
                  terminated=chunked)
    assert answer.status == (413 if len(body) > SMALL_LIMIT else 200)
    assert_deliberate(answer, body)


PING = b'{"topic": "ping"}'
CLOCK = [NOW]
ANY_CLOCK_APP = Webhook(clock=lambda: CLOCK[0])  # The default window: 10 seconds.
ANY_CLOCK_APP.on("ping", lambda request, response, notification: {"pong": True})


@example(now=YEAR_1, form="imf")  # The first second of year 1.
@example(now=4102444800, form="rfc850")  # 2100-01-01: its "00" is 2100, not 2000.
@given(now=st.integers(YEAR_1, YEAR_10000 - 1), form=st.sampled_from(FORMATS))
def test_a_date_of_now_is_accepted_whatever_the_year(now: int, form: str) -> None:
    """In every format, a rfc850 two-digit year read in the clock's own century."""
    CLOCK[0] = float(now)
    answer = call(ANY_CLOCK_APP, PING, {"Date": dated(now, form)})
    assert (answer.status, answer.json()) == (200, {"pong": True})
