"""Step 3: the ``X-Hub-Signature`` HMAC check (contract §2 "Signature")."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

import pytest
from support import KEY, NOW
from support.answers import assert_error
from support.requests import client, http_date, signed_headers
from webtest import TestResponse

from clustaar.webhook import Webhook, events, signature

pytestmark = pytest.mark.usefixtures("both_apps")

PING = b'{"topic": "ping"}'
PREFIX = 'The value provided for the "X-Hub-Signature" header is invalid. '
MISSING = "The request's signature is missing."
FORMAT = "The request's signature format is invalid."
UNKNOWN = ("The request's signature hash function is invalid "
           "(should be one of ['sha1', 'sha256', 'sha512']).")
INVALID = "The request's signature is invalid."
#: The vectors of the contract: key "test", no Date header.
EMPTY_VECTOR = "sha1=fc2bdea0e6a9e0dc333dece7568b5c3337a92342"
STEP_VECTOR = "sha1=c401ad18c5ed1b0b19d37a4e0e5dab958b6b9a2f"


def assert_rejected(response: TestResponse, reason: str) -> None:
    assert_error(response, 400, "Invalid header value", PREFIX + reason)


def ping_app(private_key: Union[str, Sequence[str]] = KEY, **options: Any) -> Webhook:
    app = Webhook(private_key=private_key, clock=lambda: NOW, **options)
    app.on("ping", lambda request, response, notification: {"pong": True})
    return app


def post(app: Webhook, value: Optional[str], body: bytes = PING,
         date: Optional[str] = None) -> TestResponse:
    headers = {"Date": http_date() if date is None else date}
    if value is not None:
        headers["X-Hub-Signature"] = value
    return client(app).post("/", body, headers=headers, expect_errors=True)


def sign(body: bytes = PING, key: str = KEY, algorithm: str = "sha1",
         date: Optional[str] = None) -> str:
    return signed_headers(body, key=key, date=date, algorithm=algorithm)["X-Hub-Signature"]


def test_helper_digest_matches_the_contract_vectors(vector_bytes: bytes) -> None:
    assert "sha1=" + signature.digest("test", b"{}", None) == EMPTY_VECTOR
    assert "sha1=" + signature.digest("test", vector_bytes, None) == STEP_VECTOR


def test_vector_with_an_empty_object_passes_the_signature() -> None:
    app = Webhook(private_key="test", request_max_age=None)
    headers = {"X-Hub-Signature": EMPTY_VECTOR}
    response = client(app).post("/", b"{}", headers=headers, expect_errors=True)
    # The signature step passed: the next failure is the payload's (no topic).
    assert_error(response, 400, "Invalid JSON",
                 'The request body is not a valid notification: it has no string "topic".')
    tampered = {"X-Hub-Signature": EMPTY_VECTOR[:-1] + "3"}
    response = client(app).post("/", b"{}", headers=tampered, expect_errors=True)
    assert_rejected(response, INVALID)


def test_vector_of_the_step_reached_notification_is_answered(vector_bytes: bytes) -> None:
    app = Webhook(private_key="test", request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED,
           lambda request, response, notification: {"step": notification.event.step.id})
    response = client(app).post("/", vector_bytes, headers={"X-Hub-Signature": STEP_VECTOR})
    assert response.json == {"step": "1234"}
    response = client(app).post("/", vector_bytes + b" ", expect_errors=True,
                                headers={"X-Hub-Signature": STEP_VECTOR})
    assert_rejected(response, INVALID)


@pytest.mark.parametrize("algorithm, hash_function", [
    ("sha1", hashlib.sha1), ("sha256", hashlib.sha256), ("sha512", hashlib.sha512)])
def test_each_algorithm_is_accepted(algorithm: str, hash_function: Callable[..., Any]) -> None:
    date = http_date()
    # Computed here from the contract's definition, not with the package's helper.
    message = b"date=" + date.encode() + b"\n" + PING
    value = hmac.new(KEY.encode(), message, hash_function).hexdigest()
    assert post(ping_app(), f"{algorithm}={value}").json == {"pong": True}
    assert_rejected(post(ping_app(), f"{algorithm}={value[:-2]}"), INVALID)


@pytest.mark.parametrize("name", ["SHA1", "Sha256", "sHA512"])
def test_algorithm_name_is_case_insensitive(name: str) -> None:
    value = sign(algorithm=name.lower()).split("=", 1)[1]
    assert post(ping_app(), f"{name}={value}").status_int == 200


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_hex_digest_is_case_insensitive(algorithm: str) -> None:
    name, value = sign(algorithm=algorithm).split("=", 1)
    assert post(ping_app(), f"{name}={value.upper()}").status_int == 200
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(value))
    assert post(ping_app(), f"{name}={mixed}").status_int == 200


@pytest.mark.parametrize("template", ["{name} ={value}", "{name}= {value}", "{name}\t=\t{value}",
                                      " {name} = {value} "])
def test_blanks_around_the_equals_sign_are_ignored(template: str) -> None:
    name, value = sign().split("=", 1)
    assert post(ping_app(), template.format(name=name, value=value)).json == {"pong": True}
    wrong = template.format(name=name, value=value[:-1] + ("1" if value[-1] != "1" else "2"))
    assert_rejected(post(ping_app(), wrong), INVALID)


@pytest.mark.parametrize("keys", [["old", "new"], ("old", "new", "newer")])
def test_key_rotation_accepts_a_signature_by_any_key(keys: Sequence[str]) -> None:
    app = ping_app(private_key=keys)
    for key in keys:
        assert post(app, sign(key=key)).json == {"pong": True}
    assert_rejected(post(app, sign(key="retired")), INVALID)


def test_a_single_key_rejects_other_keys() -> None:
    assert_rejected(post(ping_app(private_key="right"), sign(key="wrong")), INVALID)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_missing_or_empty_header(value: Optional[str]) -> None:
    # A field value never includes surrounding whitespace (RFC 9110 §5.5): "  " is empty.
    assert_rejected(post(ping_app(), value), MISSING)


@pytest.mark.parametrize("value", ["sha1", "fc2bdea0e6a9e0dc333dece7568b5c3337a92342",
                                   "sha1:fc2bdea0", "sha1 fc2bdea0"])
def test_value_without_equals_sign_has_an_invalid_format(value: str) -> None:
    assert_rejected(post(ping_app(), value), FORMAT)


@pytest.mark.parametrize("algorithm", ["md5", "sha384", "sha3_256", "", "shake_128", "sha-1"])
def test_unknown_algorithm(algorithm: str) -> None:
    assert_rejected(post(ping_app(), f"{algorithm}=abcdef"), UNKNOWN)


@pytest.mark.parametrize("value", [
    "sha1=ab=cd",
    "sha1=",
    "sha1=" + "0" * 40,
    "sha1=" + "z" * 40,
    "sha1=\u00e9\u00e8\u00ff",  # Latin-1 characters: all a WSGI header can carry
    "sha256=" + "\u00ff" * 64,
    "sha1=\x01\x02garbage",
])
def test_wrong_or_garbage_digest_is_invalid_not_a_crash(value: str) -> None:
    assert_rejected(post(ping_app(), value), INVALID)


def test_sha1_digest_with_an_extra_equals_suffix_is_invalid() -> None:
    assert_rejected(post(ping_app(), sign() + "=cd"), INVALID)


def test_the_date_header_is_part_of_the_signed_message() -> None:
    app = ping_app(request_max_age=None)
    signed = sign(date=http_date(NOW))
    assert post(app, signed, date=http_date(NOW)).status_int == 200
    assert_rejected(post(app, signed, date=http_date(NOW + 1)), INVALID)
    # Within the replay window too: the Date still has to be the signed one.
    assert_rejected(post(ping_app(), signed, date=http_date(NOW - 5)), INVALID)


def test_the_body_is_part_of_the_signed_message() -> None:
    other = b'{"topic": "ping", "x": 1}'
    assert_rejected(post(ping_app(), sign(), body=other), INVALID)


def test_no_date_header_signs_the_text_none() -> None:
    app = ping_app(request_max_age=None)
    value = "sha1=" + hmac.new(KEY.encode(), b"date=None\n" + PING, hashlib.sha1).hexdigest()
    response = client(app).post("/", PING, headers={"X-Hub-Signature": value})
    assert response.json == {"pong": True}


def test_without_a_private_key_no_signature_is_needed() -> None:
    app = Webhook(clock=lambda: NOW)
    app.on("ping", lambda request, response, notification: {"pong": True})
    assert post(app, None).json == {"pong": True}
    assert post(app, "sha1=whatever").json == {"pong": True}


def test_a_date_outside_latin_1_is_an_invalid_signature_not_a_500() -> None:
    # PEP 3333 servers hand headers over as latin-1 text; a non-conforming one
    # may not, and the signature check must still answer 400.
    app = ping_app(request_max_age=None)
    response = client(app).post("/", PING, headers={"Date": "€", "X-Hub-Signature": "sha1=00"},
                                status="*", extra_environ={"HTTP_DATE": "\u20ac"})
    assert_rejected(response, "The request's signature is invalid.")
