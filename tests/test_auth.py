"""Step 4: HTTP Basic authentication (contract §2 "Basic authentication")."""
from __future__ import annotations

import base64
from typing import Optional

import pytest
from support import PASSWORD, USER
from support.answers import assert_error
from support.requests import basic, client
from support.wsgi import call
from webtest import TestResponse

from clustaar.webhook import Webhook

pytestmark = pytest.mark.usefixtures("both_apps")

PING = b'{"topic": "ping"}'


def ping_app(username: str = USER, password: str = PASSWORD) -> Webhook:
    app = Webhook(auth_username=username, auth_password=password, request_max_age=None)
    app.on("ping", lambda request, response, notification: {"pong": True})
    return app


def post(authorization: Optional[str], app: Optional[Webhook] = None) -> TestResponse:
    headers = {} if authorization is None else {"Authorization": authorization}
    return client(app or ping_app()).post("/", PING, headers=headers, expect_errors=True)


def assert_forbidden(response: TestResponse) -> None:
    assert_error(response, 403, "Invalid credentials", "This call needs authentication")


def token(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_right_credentials_are_accepted() -> None:
    assert post(basic()).json == {"pong": True}


def test_password_may_contain_colons_split_on_the_first() -> None:
    # PASSWORD is "pa:ss:word": only the first colon separates the user.
    assert ":" in PASSWORD
    assert post("Basic " + token(f"{USER}:{PASSWORD}".encode())).status_int == 200
    app = ping_app("bot", "::")
    assert post(basic("bot", "::"), app).status_int == 200
    assert_forbidden(post(basic("bot", ":"), app))


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "bAsIc"])
def test_scheme_name_is_case_insensitive(scheme: str) -> None:
    assert post(f"{scheme} " + token(f"{USER}:{PASSWORD}".encode())).status_int == 200


@pytest.mark.parametrize("template", ["  Basic {}", "Basic   {}", "Basic {}  ", " Basic  {} "])
def test_blanks_around_the_scheme_and_the_token_are_ignored(template: str) -> None:
    # Sent as a raw WSGI call: the header reaches the app exactly as written.
    right = template.format(token(f"{USER}:{PASSWORD}".encode()))
    assert call(ping_app(), PING, {"Authorization": right}).status == 200
    wrong = template.format(token(f"{USER}:guess".encode()))
    assert call(ping_app(), PING, {"Authorization": wrong}).status == 403


@pytest.mark.parametrize("authorization", [None, ""])
def test_missing_or_empty_header(authorization: Optional[str]) -> None:
    assert_forbidden(post(authorization))


@pytest.mark.parametrize("scheme", ["Bearer", "Digest", "Basics", "Token"])
def test_other_scheme(scheme: str) -> None:
    assert_forbidden(post(f"{scheme} " + token(f"{USER}:{PASSWORD}".encode())))


@pytest.mark.parametrize("authorization", [
    "Basic",
    "Basic ",
    "Basic !!!!",
    "Basic Ym90OnBhOnNzOndvcmQ",  # padding removed
    "Basic Ym90On\u00e9BhOnNzOndvcmQ=",  # a non-ASCII character inside the token
    "Basic " + token(b"bot:pa:ss:word") + "$",
])
def test_bad_base64(authorization: str) -> None:
    assert_forbidden(post(authorization))


@pytest.mark.parametrize("raw", [b"bot:pa\xffss", b"\xc3(:pa:ss:word", b"bot:\x80"])
def test_credentials_that_are_not_utf8(raw: bytes) -> None:
    assert_forbidden(post("Basic " + token(raw)))


def test_non_ascii_utf8_credentials_are_accepted() -> None:
    app = ping_app("zoë", "mot de passe ☃")
    assert post(basic("zoë", "mot de passe ☃"), app).status_int == 200
    assert_forbidden(post(basic("zoe", "mot de passe ☃"), app))


@pytest.mark.parametrize("raw", [b"botpa", b"", f"{USER}{PASSWORD}".encode()])
def test_credentials_without_a_colon(raw: bytes) -> None:
    assert_forbidden(post("Basic " + token(raw)))


@pytest.mark.parametrize("user, password", [
    ("bott", PASSWORD), ("", PASSWORD), ("Bot", PASSWORD), (USER + ":pa", "ss:word!"),
])
def test_wrong_user(user: str, password: str) -> None:
    assert_forbidden(post(basic(user, password)))


@pytest.mark.parametrize("password", ["pa:ss:wor", "pa:ss:word ", "", "PA:SS:WORD", "pa"])
def test_wrong_password(password: str) -> None:
    assert_forbidden(post(basic(USER, password)))


def test_without_credentials_configured_no_header_is_needed() -> None:
    app = Webhook(request_max_age=None)
    app.on("ping", lambda request, response, notification: {"pong": True})
    assert post(None, app).status_int == 200
    assert post("Bearer nonsense", app).status_int == 200
