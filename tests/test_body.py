"""Step 1: the body size limit, with and without Content-Length (contract §1, §2)."""
from __future__ import annotations

import io
import json
from typing import Any, Optional

import falcon.testing
import pytest
from support import KEY, NOW, PASSWORD, USER
from support.answers import assert_error
from support.asgi import ClientGone
from support.requests import client
from webtest import TestApp, TestRequest, TestResponse

from clustaar.webhook import AsyncWebhook, Webhook

pytestmark = pytest.mark.usefixtures("both_apps")

MIB = 1048576


def ping(size: int) -> bytes:
    """A ``ping`` notification of exactly ``size`` bytes (padded with spaces)."""
    body = b'{"topic": "ping"}'
    assert size >= len(body)
    return body + b" " * (size - len(body))


def ping_app(**options: Any) -> Webhook:
    app = Webhook(request_max_age=None, **options)
    app.on("ping", lambda request, response, notification: {"size": len(request.body)})
    return app


def assert_too_large(response: TestResponse, limit: int) -> None:
    assert_error(response, 413, "Request body too large",
                 f"The request body must not exceed {limit} bytes.")


class Stream(io.RawIOBase):
    """A request body stream that counts what is read from it and may never end.

    ``data`` is served first; then, when ``endless``, a byte pattern forever.
    ``tripwire`` makes any read fail the test.
    """

    def __init__(self, data: bytes = b"", endless: bool = False, tripwire: bool = False) -> None:
        self._data = io.BytesIO(data)
        self._endless = endless
        self._tripwire = tripwire
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        assert not self._tripwire, "the body was read"
        count = self._data.readinto(buffer)
        if not count and self._endless:
            buffer[:] = b" " * len(buffer)
            count = len(buffer)
        assert self.bytes_read < 64 * MIB, "reading never stopped"
        self.bytes_read += count
        return count


def send(app: Webhook, stream: Stream, content_length: Optional[int] = None,
         terminated: bool = True) -> TestResponse:
    """POST ``stream``; without ``content_length``, as a server passes a chunked body."""
    request = TestRequest.blank("/", method="POST")
    request.environ["wsgi.input"] = stream
    request.environ.pop("CONTENT_LENGTH", None)
    if content_length is not None:
        request.environ["CONTENT_LENGTH"] = str(content_length)
    if terminated:
        request.environ["wsgi.input_terminated"] = True
    return TestApp(app).do_request(request, expect_errors=True)


def test_default_limit_is_one_mebibyte() -> None:
    app = ping_app()
    assert client(app).post("/", ping(MIB)).json == {"size": MIB}
    assert_too_large(client(app).post("/", ping(MIB + 1), expect_errors=True), MIB)
    # The same without Content-Length, as a server passes a chunked body.
    assert send(app, Stream(ping(MIB))).json == {"size": MIB}
    assert_too_large(send(app, Stream(ping(MIB + 1))), MIB)


def test_exactly_the_limit_is_accepted_one_more_byte_is_not() -> None:
    app = ping_app(max_body_size=100)
    assert client(app).post("/", ping(100)).json == {"size": 100}
    assert_too_large(client(app).post("/", ping(101), expect_errors=True), 100)


def test_a_one_byte_limit_is_accepted_and_enforced() -> None:
    app = Webhook(request_max_age=None, max_body_size=1)
    # One byte passes the limit and fails as JSON (step 5); two are refused at step 1.
    passed = client(app).post("/", b"1", expect_errors=True)
    assert (passed.status_int, passed.json["title"]) == (400, "Invalid JSON")
    assert_too_large(client(app).post("/", b"{}", expect_errors=True), 1)
    assert_too_large(send(app, Stream(b"{}")), 1)


def test_a_declared_length_over_the_limit_is_refused_without_reading(both_apps: type) -> None:
    stream = Stream(endless=True)
    response = send(ping_app(max_body_size=100), stream, content_length=10 * MIB)
    assert_too_large(response, 100)
    # Falcon's ASGI app takes the server's first body message with the request; nothing more.
    assert stream.bytes_read == (64 * 1024 if issubclass(both_apps, AsyncWebhook) else 0)


def test_chunked_body_under_the_limit_is_processed() -> None:
    stream = Stream(ping(5000))
    response = send(ping_app(max_body_size=5000), stream)
    assert response.json == {"size": 5000}
    assert stream.bytes_read == 5000


def test_chunked_body_over_the_limit_is_refused() -> None:
    response = send(ping_app(max_body_size=5000), Stream(ping(5001)))
    assert_too_large(response, 5000)


def test_endless_chunked_body_stops_being_read_past_the_limit() -> None:
    stream = Stream(ping(100), endless=True)
    assert_too_large(send(ping_app(), stream), MIB)
    # Read in chunks and stopped at the first one past the limit.
    assert MIB < stream.bytes_read <= 2 * MIB


def test_body_without_length_nor_end_marker_is_not_read() -> None:
    # PEP 3333: reading past the end of such a stream could block forever.
    response = send(ping_app(), Stream(tripwire=True), terminated=False)
    assert_error(response, 400, "Invalid JSON", "The request body is not a valid "
                 "notification: Expecting value at line 1, column 1.")


def test_none_means_no_limit() -> None:
    app = ping_app(max_body_size=None)
    big = 2 * MIB + 1
    assert client(app).post("/", ping(big)).json == {"size": big}
    assert send(app, Stream(ping(big))).json == {"size": big}


def test_an_empty_body_is_read_as_empty() -> None:
    response = client(ping_app()).post("/", b"", expect_errors=True)
    assert_error(response, 400, "Invalid JSON", "The request body is not a valid "
                 "notification: Expecting value at line 1, column 1.")


@pytest.mark.parametrize("chunked", [False, True])
def test_the_limit_comes_before_every_other_check(chunked: bool) -> None:
    app = Webhook(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                  clock=lambda: NOW, max_body_size=10)
    if chunked:
        response = send(app, Stream(b"x" * 11))
    else:
        response = client(app).post("/", b"x" * 11, expect_errors=True)
    assert_too_large(response, 10)


class FailingStream(io.RawIOBase):
    """A body stream that fails as a server's does on broken chunked framing."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise ValueError("Invalid chunk size: b'0x5' (client bytes that must not be logged)")


UNREADABLE = "The request body could not be read: "


@pytest.mark.parametrize("content_length", [None, 40])
def test_a_stream_that_fails_is_a_400_with_one_warning_before_any_check(
        content_length: Optional[int], caplog: pytest.LogCaptureFixture, both_apps: type) -> None:
    app = ping_app(private_key=KEY, auth_username=USER, auth_password=PASSWORD)
    if issubclass(both_apps, AsyncWebhook):
        # An ASGI server tells the app the client is gone: there is no one to answer,
        # and nothing is an error of ours.
        with caplog.at_level("DEBUG", logger="clustaar.webhook"), pytest.raises(ClientGone):
            send(app, FailingStream(), content_length=content_length)
        assert not [record for record in caplog.records if record.levelname == "ERROR"]
        return
    with caplog.at_level("DEBUG", logger="clustaar.webhook"):
        response = send(app, FailingStream(), content_length=content_length)
    assert_error(response, 400, "Invalid request body",
                 UNREADABLE + "the stream failed (ValueError).")
    assert [(record.levelname, record.getMessage()) for record in caplog.records
            if record.name == "clustaar.webhook"] == [
        ("WARNING", "rejected POST / with status 400 (Invalid request body): "
                    + UNREADABLE + "the stream failed (ValueError).")]
    assert "0x5" not in caplog.text


def test_a_body_shorter_than_its_content_length_is_a_400() -> None:
    response = send(ping_app(), Stream(ping(30)), content_length=31)
    assert_error(response, 400, "Invalid request body",
                 UNREADABLE + "it ended after 30 of the 31 bytes announced.")


def post_raw(app: Webhook, body: bytes, content_length: str) -> tuple[str, Any]:
    """POST straight to the WSGI app (no WSGI lint: it refuses such headers itself)."""
    environ = falcon.testing.create_environ("/", method="POST", body=body)
    environ["CONTENT_LENGTH"] = content_length
    start = falcon.testing.StartResponseMock()
    answer = b"".join(app(environ, start))
    return str(start.status), json.loads(answer)


@pytest.mark.parametrize("header", ["+5", " 5 ", "1_0", "٣", "0x10", "5.0", " ", "-0"])
def test_content_length_is_ascii_digits_only(header: str) -> None:
    assert post_raw(ping_app(private_key=KEY), ping(17), header) == ("400 Bad Request", {
        "title": "Invalid header value",
        "description": 'The value provided for the "Content-Length" header is invalid. '
                       "It must be a number of bytes in ASCII digits."})


def test_leading_zeros_are_still_a_length() -> None:
    assert post_raw(ping_app(), ping(17), "0017") == ("200 OK", {"size": 17})
