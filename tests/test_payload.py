"""Step 5: the body is strict RFC 8259 JSON, an object with a string ``topic`` (contract §2).

Nesting levels are counted as containers open at once, the top-level object
included: ``{"topic": "ping", "a": [[]]}`` has 3 levels. 64 pass, 65 do not.
"""
from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.answers import assert_error
from support.requests import client
from support.strategies import JSON_VALUES
from webtest import TestResponse

from clustaar.webhook import Webhook, payload
from clustaar.webhook.payload import MAX_DEPTH

pytestmark = pytest.mark.usefixtures("both_apps")

PREFIX = "The request body is not a valid notification: "
TOO_DEEP = "it nests deeper than 64 levels."
NOT_AN_OBJECT = "the top level must be an object."
NO_TOPIC = 'it has no string "topic".'


def ping_app() -> tuple[Webhook, list[Any]]:
    """A webhook for ``ping``, and the list of the parsed bodies its handler saw."""
    seen: list[Any] = []

    def handler(request: Any, response: Any, notification: Any) -> dict[str, bool]:
        seen.append(request.json)
        return {"pong": True}

    app = Webhook(request_max_age=None)
    app.on("ping", handler)
    return app, seen


def post(body: bytes) -> TestResponse:
    app, _ = ping_app()
    return client(app).post("/", body, expect_errors=True)


def assert_invalid(response: TestResponse, reason: str) -> None:
    assert_error(response, 400, "Invalid JSON", PREFIX + reason)


def nested(levels: int, opening: str = "[", closing: str = "]") -> bytes:
    """A ping notification whose deepest value sits ``levels`` containers deep."""
    inner = opening * (levels - 1) + "0" + closing * (levels - 1)
    return f'{{"topic": "ping", "a": {inner}}}'.encode()


def test_a_valid_notification_reaches_the_handler_parsed() -> None:
    app, seen = ping_app()
    body = b'{"topic": "ping", "n": [1, 2.5, "\\u00e9", null, true, {"k": {}}]}'
    assert client(app).post("/", body).json == {"pong": True}
    assert seen == [{"topic": "ping", "n": [1, 2.5, "\u00e9", None, True, {"k": {}}]}]


@pytest.mark.parametrize("body", [
    b'{"topic": "ping", "x": "\xff"}',
    b'{"topic": "ping", "x": "\xc3\x28"}',
    b'{"topic": "ping", "x": "\xed\xa0\x80"}',  # an encoded surrogate
    '{"topic": "ping"}'.encode("utf-16"),
    '{"topic": "ping", "x": "\u00e9"}'.encode("latin-1"),
])
def test_a_body_that_is_not_utf8(body: bytes) -> None:
    assert_invalid(post(body), "it is not UTF-8.")


@pytest.mark.parametrize("body, line, column", [
    (b"", 1, 1),
    (b"   ", 1, 4),
    (b"{", 1, 2),
    (b'{"topic" "ping"}', 1, 10),
    (b"{'topic': 'ping'}", 1, 2),
    (b'{"topic": "ping"} {}', 1, 19),
    (b'{"topic": "ping"\n\n, x}', 3, 3),
])
def test_invalid_json_says_where(body: bytes, line: int, column: int) -> None:
    # The wording is Python's own (it changes between versions); the place is ours to give.
    with pytest.raises(json.JSONDecodeError) as python:
        json.loads(body)
    assert_invalid(post(body), f"{python.value.msg} at line {line}, column {column}.")


@pytest.mark.parametrize("body", [
    b'{"topic": "ping", "x": 01}',
    b'{"topic": "ping", "x": .5}',
    b'{"topic": "ping", "x": 0x10}',
    b'{"topic": "ping", "x": undefined}',
    b'{"topic": "ping", "x": "tab\there"}',  # a raw control character in a string
    b'\xef\xbb\xbf{"topic": "ping"}',  # RFC 8259 forbids senders to add a BOM
])
def test_other_non_json_is_rejected(body: bytes) -> None:
    response = post(body)
    assert_error(response, 400, "Invalid JSON", response.json["description"])
    assert response.json["description"].startswith(PREFIX)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_rejected_anywhere(constant: str) -> None:
    reason = f"{constant} is not allowed in JSON."
    assert_invalid(post(f'{{"topic": "ping", "x": {constant}}}'.encode()), reason)
    assert_invalid(post(f'{{"topic": "ping", "x": [1, {{"y": {constant}}}]}}'.encode()), reason)
    assert_invalid(post(constant.encode()), reason)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5E+309", "-0.1e99999"])
def test_numbers_that_overflow_to_infinity_are_rejected(number: str) -> None:
    # Python would read them as inf: Infinity by another name.
    body = f'{{"topic": "ping", "x": [{number}]}}'.encode()
    assert_invalid(post(body), "a number is out of range.")


def test_tiny_and_long_numbers_are_accepted() -> None:
    app, seen = ping_app()
    body = b'{"topic": "ping", "x": [1e-400, 1.7976931348623157e308, ' + b"9" * 400 + b"]}"
    assert client(app).post("/", body).status_int == 200
    assert seen[0]["x"] == [0.0, 1.7976931348623157e308, int("9" * 400)]


def test_a_huge_integer_is_rejected_not_a_crash() -> None:
    response = post(b'{"topic": "ping", "x": ' + b"9" * 5000 + b"}")
    assert response.status_int == 400
    assert response.json["title"] == "Invalid JSON"


def test_the_depth_limit_is_64() -> None:
    assert MAX_DEPTH == 64


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a": ', "}")])
def test_64_levels_are_accepted_65_are_not(opening: str, closing: str) -> None:
    app, seen = ping_app()
    assert client(app).post("/", nested(64, opening, closing)).json == {"pong": True}
    assert len(seen) == 1
    assert_invalid(post(nested(65, opening, closing)), TOO_DEEP)


def test_the_top_level_container_counts_as_a_level() -> None:
    # 64 arrays: deep enough to pass, but not an object; 65: too deep first.
    assert_invalid(post(b"[" * 64 + b"]" * 64), NOT_AN_OBJECT)
    assert_invalid(post(b"[" * 65 + b"]" * 65), TOO_DEEP)


def test_depth_is_the_deepest_branch_not_the_bracket_count() -> None:
    wide = '{"topic": "ping", "a": [' + ", ".join(["[[]]"] * 200) + "]}"
    assert post(wide.encode()).json == {"pong": True}


def test_brackets_inside_strings_do_not_nest() -> None:
    text = json.dumps({"topic": "ping", "s": '\\"[{' * 100, "[[[": "{{{" * 100})
    assert post(text.encode()).json == {"pong": True}


@pytest.mark.parametrize("body", [
    b"[" * 100000 + b"]" * 100000,
    b'{"topic": "ping", "a": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    b'{"topic": "ping", "a": ' + b'{"a": ' * 100000 + b"1" + b"}" * 100000 + b"}",
    b"[" * 100000,  # never closed
    b"[" * 1048576,
])
def test_absurd_nesting_is_a_quick_400(body: bytes) -> None:
    start = time.perf_counter()
    response = post(body)
    elapsed = time.perf_counter() - start
    assert response.status_int == 400
    assert response.json["title"] == "Invalid JSON"
    assert elapsed < 5  # measured: milliseconds; the bound only catches a hang


@pytest.mark.parametrize("body", [b"[]", b'["topic", "ping"]', b'"ping"', b"42", b"-1.5e3",
                                  b"null", b"true", b"false"])
def test_the_top_level_must_be_an_object(body: bytes) -> None:
    assert_invalid(post(body), NOT_AN_OBJECT)


@pytest.mark.parametrize("body", [b"{}", b'{"Topic": "ping"}', b'{"data": {"topic": "ping"}}'])
def test_missing_topic(body: bytes) -> None:
    assert_invalid(post(body), NO_TOPIC)


@pytest.mark.parametrize("topic", ["1", "null", "{}", "[]", "true", '["ping"]', '{"ping": 1}'])
def test_a_topic_that_is_not_a_string(topic: str) -> None:
    assert_invalid(post(f'{{"topic": {topic}}}'.encode()), NO_TOPIC)


def _strict_reference(text: str) -> Any:
    """What the stdlib decoder gives for ``text`` with the refusals above, or ``REFUSED``."""
    def constant(name: str) -> Any:
        raise ValueError(name)

    def finite(number: str) -> float:
        value = float(number)
        if value in (float("inf"), float("-inf")):
            raise ValueError(number)
        return value

    try:
        return json.loads(text, parse_constant=constant, parse_float=finite)
    except (ValueError, RecursionError):
        return REFUSED


REFUSED = object()
#: Characters JSON is made of, and the ones it must refuse, for the mutated documents.
_JSON_ALPHABET = st.sampled_from(list('{}[]",:.-+eE0123456789 \t\n\rtrufalsn\\/u') +
                                 ["\ud800", "\x00", "\x7f", "é", "\ufeff"])
_NUMBERS = st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,30})?([eE][-+]?[0-9]{1,4})?",
                         fullmatch=True)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """JSON values as clients write them (spacing, escapes, long numbers), sometimes
    broken by one inserted or deleted character."""
    value = draw(JSON_VALUES)
    text = json.dumps(value, ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    if draw(st.booleans()):
        text = f"[{text}, {draw(_NUMBERS)}]"
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(_JSON_ALPHABET) + text[at:]
        else:
            text = text[:at] + text[at + 1:]
    return text


@settings(max_examples=200, deadline=None)
@given(documents())
def test_handlers_see_what_the_strict_decoder_gives_and_nothing_it_refuses(text: str) -> None:
    # The fast decoder and the stdlib one must agree on every document, value for value.
    app, seen = ping_app()
    body = '{"topic": "ping", "v": ' + text + '}'
    response = client(app).post("/", body.encode("utf-8", "surrogatepass"),
                                expect_errors=True)
    # A raw surrogate is not UTF-8.
    expected = REFUSED if "\ud800" in text else _strict_reference(body)
    if expected is REFUSED:
        assert response.status_int == 400
        assert seen == []
    else:
        assert response.status_int == 200
        assert repr(seen) == repr([expected])  # repr: -0.0 and 0.0 differ, as do 1 and 1.0


@pytest.mark.parametrize("error", [
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),  # msgspec 0.20
    ValueError("any other wording"), RecursionError(),
])
def test_the_strict_decoder_decides_whatever_the_fast_one_raises(
        monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def fast(body: bytes) -> Any:
        raise error

    monkeypatch.setattr(payload, "_FAST_DECODE", fast)
    assert_invalid(post(b'{"topic": "ping", "x": "\xff"}'), "it is not UTF-8.")
    app, seen = ping_app()
    assert client(app).post("/", b'{"topic": "ping", "n": 1}').json == {"pong": True}
    assert seen == [{"topic": "ping", "n": 1}]
