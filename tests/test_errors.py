"""Error answers and logging (contract §2 table, §3): order of the checks, 404/405, JSON, no leaks."""
from __future__ import annotations

import logging
from typing import Any, Callable

import pytest
from support import KEY, NOW, PASSWORD, USER
from support.answers import assert_error
from support.logs import served
from support.requests import basic, client, http_date, signed_headers

from clustaar.webhook import Webhook

pytestmark = pytest.mark.usefixtures("both_apps")

LOGGER = "clustaar.webhook"
PING = b'{"topic": "ping"}'
SIGNATURE_INVALID = ('The value provided for the "X-Hub-Signature" header is invalid. '
                     "The request's signature is invalid.")
FORBIDDEN = ("Invalid credentials", "This call needs authentication")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in served(caplog.records)
            if record.name == LOGGER and record.levelno == logging.WARNING]


def ping_app(**options: Any) -> tuple[Webhook, list[Any]]:
    """A webhook answering ``ping`` notifications, and the list of what its handler saw."""
    seen: list[Any] = []

    def handler(request: Any, response: Any, notification: Any) -> dict[str, bool]:
        seen.append(notification)
        return {"pong": True}

    app = Webhook(**options)
    app.on("ping", handler)
    return app, seen


# --- Order of the checks (contract §2 table): the first failure answers. ---

def test_oversize_unsigned_request_answers_413_not_400(clock: Callable[[], float]) -> None:
    app, seen = ping_app(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                         clock=clock, max_body_size=8)
    response = client(app).post("/", PING, expect_errors=True)  # no Date, no signature, no auth
    assert_error(response, 413, "Request body too large",
                 "The request body must not exceed 8 bytes.")
    assert seen == []


def test_bad_date_and_bad_signature_answers_the_date_error(clock: Callable[[], float]) -> None:
    app, seen = ping_app(private_key=KEY, clock=clock)
    headers = {"Date": http_date(NOW - 3600), "X-Hub-Signature": "sha1=" + "0" * 40}
    response = client(app).post("/", PING, headers=headers, expect_errors=True)
    assert_error(response, 400, "400 Bad Request", "Request is too old")
    assert seen == []


def test_bad_signature_and_bad_auth_answers_the_signature_error(
        clock: Callable[[], float]) -> None:
    app, seen = ping_app(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                         clock=clock)
    headers = signed_headers(PING, key="another key", auth=basic(password="wrong"))
    response = client(app).post("/", PING, headers=headers, expect_errors=True)
    assert_error(response, 400, "Invalid header value", SIGNATURE_INVALID)
    assert seen == []


def test_bad_auth_and_invalid_json_answers_403(clock: Callable[[], float]) -> None:
    app, _ = ping_app(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                      clock=clock)
    body = b"{not json"
    headers = signed_headers(body, auth=basic(password="wrong"))
    response = client(app).post("/", body, headers=headers, expect_errors=True)
    assert_error(response, 403, *FORBIDDEN)


def test_every_check_passing_reaches_the_handler(clock: Callable[[], float]) -> None:
    app, seen = ping_app(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                         clock=clock)
    response = client(app).post("/", PING, headers=signed_headers(PING, auth=basic()))
    assert response.status_int == 200
    assert response.json == {"pong": True}
    assert len(seen) == 1


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_other_methods_answer_405_before_any_check(
        method: str, clock: Callable[[], float]) -> None:
    # Every check would fail (too big, no Date, no signature, no auth): 405 still wins.
    app, seen = ping_app(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                         clock=clock, max_body_size=1)
    response = client(app).request("/", method=method, body=b"x" * 100, expect_errors=True)
    assert response.status_int == 405
    assert response.headers["Allow"] == "POST"
    assert response.content_type == "application/json"
    if method != "HEAD":  # A HEAD answer has no body.
        assert response.json == {"title": "405 Method Not Allowed",
                                 "description": "This webhook only accepts POST requests."}
    assert seen == []


def test_an_unknown_method_answers_405(clock: Callable[[], float]) -> None:
    app, _seen = ping_app(private_key=KEY, clock=clock)
    # webtest's WSGI checker warns about methods it does not know; that is the point here.
    with pytest.warns(Warning, match="Unknown REQUEST_METHOD"):
        response = client(app).request("/", method="BREW", expect_errors=True)
    assert_error(response, 405, "405 Method Not Allowed",
                 "This webhook only accepts POST requests.")
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("path", ["/other", "/x/", "/ping", "/ping/"])
def test_other_paths_answer_404(path: str, clock: Callable[[], float]) -> None:
    app, seen = ping_app(private_key=KEY, clock=clock)
    response = client(app).post(path, PING, headers=signed_headers(PING), expect_errors=True)
    assert_error(response, 404, "404 Not Found", "There is no webhook at this path.")
    assert seen == []


def test_error_answers_are_json_even_when_the_client_asks_for_xml(
        clock: Callable[[], float]) -> None:
    app, _ = ping_app(private_key=KEY, clock=clock)
    response = client(app).post("/", PING, headers={"Accept": "application/xml"},
                                expect_errors=True)
    assert_error(response, 400, "400 Bad Request", "The request's Date header is missing.")
    response = client(app).get("/", headers={"Accept": "application/xml"}, expect_errors=True)
    assert response.status_int == 405
    assert response.content_type == "application/json"


# --- Logging (contract §3). ---

UNKNOWN_TOPIC = b'{"topic": "unknown"}'
SIGNED_AUTH = signed_headers(PING, auth=basic())


@pytest.mark.parametrize("path, method, body, headers, status, reason", [
    ("/", "POST", b" " * 101, {}, 413, "The request body must not exceed 100 bytes."),
    ("/", "POST", PING, {}, 400, "The request's Date header is missing."),
    ("/", "POST", PING, {"Date": http_date()}, 400, "The request's signature is missing."),
    ("/", "POST", PING, signed_headers(PING), 403, FORBIDDEN[1]),
    ("/", "POST", b"nope", signed_headers(b"nope", auth=basic()), 400,
     "Expecting value at line 1, column 1."),
    ("/", "POST", UNKNOWN_TOPIC, signed_headers(UNKNOWN_TOPIC, auth=basic()), 404,
     "No handler accepts this notification."),
    ("/", "GET", PING, {}, 405, "This webhook only accepts POST requests."),
    ("/other", "POST", PING, SIGNED_AUTH, 404, "There is no webhook at this path."),
])
def test_one_warning_per_rejected_request(
        path: str, method: str, body: bytes, headers: dict[str, str], status: int,
        reason: str, clock: Callable[[], float], caplog: pytest.LogCaptureFixture) -> None:
    app, _ = ping_app(private_key=KEY, auth_username=USER, auth_password=PASSWORD,
                      clock=clock, max_body_size=100)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    response = client(app).request(path, method=method, headers=headers, body=body,
                                   expect_errors=True)
    assert response.status_int == status
    [record] = [r for r in served(caplog.records) if r.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert str(status) in record.getMessage()
    assert reason in record.getMessage()


def test_an_accepted_request_logs_no_warning(
        clock: Callable[[], float], caplog: pytest.LogCaptureFixture) -> None:
    app, _ = ping_app(private_key=KEY, clock=clock)
    client(app).post("/", PING, headers=signed_headers(PING))
    assert warnings_of(caplog) == []


def test_a_failing_handler_answers_500_without_details(
        clock: Callable[[], float], caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: Any, response: Any, notification: Any) -> None:
        raise RuntimeError("database password is hunter2")

    app = Webhook(request_max_age=None)
    app.on("ping", broken)
    response = client(app).post("/", PING, expect_errors=True)
    assert_error(response, 500, "Internal Server Error",
                 "The webhook failed to process this notification.")
    assert b"hunter2" not in response.body
    assert b"RuntimeError" not in response.body
    assert b"Traceback" not in response.body
    [record] = [r for r in served(caplog.records) if r.name == LOGGER]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_no_secret_reaches_a_log_or_an_answer(caplog: pytest.LogCaptureFixture) -> None:
    keys = ["old-key-Zq81", "new-key-Wx42"]
    password = "pw-Secret-77:x"
    auth = basic(USER, password)
    body_marker = "BODY-MARKER-5521"

    def broken(request: Any, response: Any, notification: Any) -> None:
        raise ValueError("handler failure")

    app = Webhook(private_key=keys, auth_username=USER, auth_password=password,
                  clock=lambda: NOW)
    app.on("ping", lambda request, response, notification: {"pong": True})
    app.on("boom", broken)
    ping = f'{{"topic": "ping", "note": "{body_marker}"}}'.encode()
    boom = b'{"topic": "boom"}'
    wrong = signed_headers(ping, key="not-a-key", auth=auth)
    requests = [
        ("/", ping, signed_headers(ping, key=keys[0], auth=auth)),
        ("/", ping, signed_headers(ping, key=keys[1], auth=auth, algorithm="sha512")),
        ("/", ping, wrong),
        ("/", ping, signed_headers(ping, key=keys[0], auth=basic(USER, "bad-Pass-31"))),
        ("/", ping, signed_headers(ping, key=keys[1])),
        ("/", ping, dict(signed_headers(ping, key=keys[0], auth=auth), Date="garbage")),
        ("/", b"[" + ping, signed_headers(b"[" + ping, key=keys[0], auth=auth)),
        ("/", boom, signed_headers(boom, key=keys[1], auth=auth)),
        ("/nowhere", ping, signed_headers(ping, key=keys[0], auth=auth)),
    ]
    caplog.set_level(logging.DEBUG)
    answers, statuses = [], []
    for path, body, headers in requests:
        response = client(app).post(path, body, headers=headers, expect_errors=True)
        statuses.append(response.status_int)
        answers.append(str(response.headers) + response.text)
    assert statuses == [200, 200, 400, 403, 403, 400, 400, 500, 404]
    logged = caplog.text + "".join(
        logging.Formatter().format(record) for record in caplog.records)
    expected = [signed_headers(ping, key=key, auth=auth, algorithm=algorithm)["X-Hub-Signature"]
                for key in keys for algorithm in ("sha1", "sha256", "sha512")]
    secrets = [*keys, password, "bad-Pass-31", auth, auth.split()[1],
               basic(USER, "bad-Pass-31").split()[1], wrong["X-Hub-Signature"].split("=")[1],
               *(value.split("=")[1] for value in expected)]
    # Every rejection logged a WARNING, the failure an ERROR with its traceback.
    assert [r.levelname for r in served(caplog.records) if r.name == LOGGER] == ["WARNING"] * 5 + [
        "ERROR", "WARNING"]
    for secret in secrets:
        assert secret not in logged
        for answer in answers:
            assert secret not in answer
    assert body_marker not in logged


def test_a_path_cannot_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    # A percent-encoded newline decodes into PATH_INFO; logged raw it would start
    # a second, forged "rejected" line.
    app = Webhook(request_max_age=None)
    with caplog.at_level(logging.WARNING, logger="clustaar.webhook"):
        response = client(app).post("/x%0Aaccepted%20POST%20/%0D", b"{}", status=404)
    assert response.json["title"] == "404 Not Found"
    [record] = warnings_of(caplog)
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    assert "/x\\naccepted POST /\\r" in message
