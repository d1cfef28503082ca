"""Secrets never leak, and are only ever compared in constant time.

* In process: many accepted and rejected requests (and one handler failure),
  every log record of every logger at every level captured; no record and no
  response holds the private key, the password, an Authorization value, a
  body or a signature (the one received or the one expected).
* Under gunicorn at debug level with an access log: neither log holds them.
* Review-backed: signature.py and auth.py never compare secret-holding names
  with ``==``/``!=``/``in``, and the checks really call ``hmac.compare_digest``
  (every configured key is tried, so timing does not tell which matched).
"""
from __future__ import annotations

import ast
import base64
import hmac
import logging
import pathlib
import re
import tempfile
from collections.abc import Iterator
from typing import Any, Optional

import pytest
import support.servers as bot
from support import NOW
from support.requests import http_date
from support.strategies import signature_value
from support.wsgi import Answer, call
from webtest import TestApp

import clustaar.webhook
from benchmarks.servers import free_port, gunicorn, serve
from clustaar.webhook import Webhook, events

pytestmark = pytest.mark.usefixtures("both_apps")

KEY, OLD_KEY = "pr1vate-KEY-4f1c9a", "retired-KEY-77d0e2"
USER, PASSWORD = "platform", "pa55:w0rd-91be"
MARKER = "body-marker-0b5e"  # Rides in every body: bodies are never logged either.
PACKAGE = pathlib.Path(clustaar.webhook.__file__).resolve().parent


def token(user: str = USER, password: str = PASSWORD) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _handler(request: Any, response: Any, notification: Any) -> Any:
    if notification.event.step.id == "fail":
        raise RuntimeError("handler failed")  # Logged with its traceback, as contract §3 says.
    return {"actions": [], "session": {"values": {}}}


def make_app(**options: Any) -> Webhook:
    app = Webhook(auth_username=USER, auth_password=PASSWORD, private_key=[KEY, OLD_KEY],
                  clock=lambda: NOW, **options)
    app.on(events.CONVERSATION_STEP_REACHED, _handler)
    return app


def body_for(step_id: str, extra: str = "") -> bytes:
    return (f'{{"topic": "conversation.step_reached", "botID": "{MARKER}", "timestamp": 1, '
            f'"data": {{"type": "step_reached_event", "channel": "web", '
            f'"interlocutor": {{"id": "i"}}, "session": {{"values": {{}}}}, '
            f'"step": {{"id": "{step_id}", "actions": []}}}}{extra}}}').encode()


#: (name, body, date, signing key, algorithm, Authorization, expected status)
CASES: list[tuple[str, bytes, Optional[str], str, str, Optional[str], int]] = [
    ("valid", body_for("ok"), http_date(), KEY, "sha1", f"Basic {token()}", 200),
    ("old key", body_for("ok"), http_date(NOW - 9), OLD_KEY, "sha512", f"basic {token()}", 200),
    ("handler failure", body_for("fail"), http_date(), KEY, "sha1", f"Basic {token()}", 500),
    ("wrong key", body_for("ok"), http_date(), "guessed-key", "sha256", f"Basic {token()}", 400),
    ("stale", body_for("ok"), http_date(NOW - 60), KEY, "sha1", f"Basic {token()}", 400),
    ("no date", body_for("ok"), None, KEY, "sha1", f"Basic {token()}", 400),
    ("wrong password", body_for("ok"), http_date(), KEY, "sha1",
     f"Basic {token(password='pa55:w0rd-guess')}", 403),
    ("wrong user", body_for("ok"), http_date(), KEY, "sha1", f"Basic {token(user='admin')}", 403),
    ("other scheme", body_for("ok"), http_date(), KEY, "sha1", f"Bearer {token()}", 403),
    ("bad base64", body_for("ok"), http_date(), KEY, "sha1", f"Basic {token()}!", 403),
    ("no credentials", body_for("ok"), http_date(), KEY, "sha1", None, 403),
    ("bad json", body_for("ok")[:-3], http_date(), KEY, "sha1", f"Basic {token()}", 400),
    ("bad field", body_for("ok").replace(b'"actions": []', b'"actions": {}'), http_date(), KEY,
     "sha1", f"Basic {token()}", 400),
    ("too large", body_for("ok", ', "pad": "' + "x" * 4096 + '"'), http_date(), KEY, "sha1",
     f"Basic {token()}", 413),
]


def secrets_of(body: bytes, headers: dict[str, str], key: str = KEY,
               password: str = PASSWORD) -> dict[str, str]:
    """Everything about one request that must never be logged (or echoed back)."""
    found = {"private key": key, "password": password,
             "expected signature": signature_value(body, headers.get("Date"), key=key)[5:]}
    if "X-Hub-Signature" in headers:
        found["received signature"] = headers["X-Hub-Signature"].partition("=")[2]
    if "Authorization" in headers:
        found["Authorization"] = headers["Authorization"]
        found["Authorization token"] = headers["Authorization"].partition(" ")[2]
        decoded = base64.b64decode(found["Authorization token"] + "==")
        found["attempted password"] = decoded.partition(b":")[2].decode("latin-1")
    return {name: value for name, value in found.items() if len(value) >= 8}


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value.lower() in text.lower()]


def requests() -> Iterator[tuple[str, bytes, dict[str, str], int]]:
    """Each case, then again with the signature in upper case and altered by one digit."""
    for name, body, date, key, algorithm, authorization, status in CASES:
        headers = {"X-Hub-Signature": signature_value(body, date, algorithm, key=key)}
        headers.update({"Date": date} if date else {})
        headers.update({"Authorization": authorization} if authorization else {})
        yield name, body, headers, status
        upper = {**headers, "X-Hub-Signature": headers["X-Hub-Signature"].upper()}
        yield f"{name}, upper case", body, upper, status
        signature = headers["X-Hub-Signature"]
        digit = "1" if signature[-1] != "1" else "2"
        if status != 413 and date:  # Otherwise the signature is never looked at.
            yield f"{name}, altered", body, {**headers, "X-Hub-Signature": signature[:-1] + digit}, 400


def test_no_log_record_or_response_holds_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # Every logger (falcon's included), every level.
    app = make_app(max_body_size=4096)
    webtest = TestApp(app)
    answers: list[tuple[str, Answer, dict[str, str]]] = []
    for name, body, headers, status in requests():
        secrets = {**secrets_of(body, headers), "old key": OLD_KEY, "body": MARKER}
        answer = call(app, body, headers)
        if name.startswith("valid"):  # Also through webtest, as a client library sends it.
            res = webtest.post("/", body, headers=headers, expect_errors=True)
            answers.append((name, Answer(res.status_int, dict(res.headers), res.body), secrets))
        assert answer.status == status, name
        answers.append((name, answer, secrets))
    records = caplog.records
    assert len([r for r in records if r.levelno == logging.WARNING]) == \
        len([a for _, a, _ in answers if 400 <= a.status < 500])
    assert any(r.levelno == logging.ERROR and r.exc_info for r in records)  # The failure.
    log = caplog.text  # Formatted records, tracebacks included.
    for name, answer, secrets in answers:
        assert leaked(log, secrets) == [], name
        shown = answer.body.decode("latin-1") + repr(dict(answer.headers))
        assert leaked(shown, {k: v for k, v in secrets.items() if k != "body"}) == [], name


@pytest.mark.server
def test_gunicorn_logs_hold_no_secret() -> None:
    """The bot under gunicorn at debug level, access log on: neither log shows a secret."""
    port = free_port()
    body = bot.notification()
    sent = [(body, bot.fresh_headers(body)), (body, bot.fresh_headers(body, key="guess-key-123")),
            (body, bot.fresh_headers(body, auth=f"Basic {token(bot.USER, 'guess:pass')}")),
            (body[:-2], bot.fresh_headers(body[:-2]))]
    with tempfile.TemporaryDirectory() as scratch:
        error_log, access_log = pathlib.Path(scratch, "error"), pathlib.Path(scratch, "access")
        command = gunicorn(port, "bot:app", "--log-level", "debug", "--capture-output",
                           "--error-logfile", str(error_log), "--access-logfile", str(access_log))
        with serve(command, port, env=bot.SECRETS):
            statuses = [bot.post(bot.Server(port, ""), data, headers)[0] for data, headers in sent]
        logs = error_log.read_text() + access_log.read_text()
    assert statuses == [200, 400, 403, 400]
    assert "rejected POST / with status 403" in logs  # The bot's own records are in there.
    for data, headers in sent:
        assert leaked(logs, secrets_of(data, headers, bot.KEY, bot.PASSWORD)) == []


# --- Constant-time comparisons ----------------------------------------------------

SECRET_NAMES = re.compile(r"key|password|secret|digest|signature|token|credential|expected|"
                          r"received|username|user_ok|password_ok|matched", re.IGNORECASE)


def _names(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id
        elif isinstance(child, ast.Attribute):
            yield child.attr


def plain_comparisons(source: str) -> list[str]:
    """``==``/``!=``/``in`` comparisons, and startswith/endswith, touching a secret-holding name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.Compare, ast.Call)):
            continue
        operands: list[ast.AST] = []
        if isinstance(node, ast.Compare) and any(
                isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("startswith", "endswith", "find", "index", "count"):
            operands = [node.func.value, *node.args]
        # Upper-case names are module constants (tables of algorithms), never secrets.
        if any(SECRET_NAMES.search(name) and not name.isupper()
               for operand in operands for name in _names(operand)):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("module", ["signature.py", "auth.py"])
def test_secrets_are_never_compared_with_plain_operators(module: str) -> None:
    source = (PACKAGE / module).read_text()
    assert plain_comparisons(source) == []
    assert "hmac.compare_digest(" in source


def test_the_enabled_checks_show_in_order_and_without_their_secrets() -> None:
    """``app.checks`` stays readable; printing it (in a log, a traceback) tells no secret."""
    shown = [repr(check) for check in make_app(request_max_age=30).checks]
    assert [text.partition("(")[0] for text in shown] == [
        "ReplayWindow", "SignatureCheck", "BasicAuth"]
    assert "30" in shown[0] and "2" in shown[1]  # The window, and how many keys.
    assert leaked(" ".join(shown), {"key": KEY, "old key": OLD_KEY, "user": USER,
                                    "password": PASSWORD}) == []


def test_the_review_rule_catches_plain_comparisons() -> None:
    assert plain_comparisons("ok = expected == received") == ["line 1: expected == received"]
    assert plain_comparisons("if password != self._password: pass")
    assert plain_comparisons("ok = header.startswith(signature)")
    assert plain_comparisons("if scheme.lower() != 'basic': pass") == []


class Spy:
    """``hmac.compare_digest`` as the checks see it: every call recorded with its arguments,
    and the verdict either the real comparison's or, once ``verdict`` is set, that one."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, ...]] = []
        self.verdict: Optional[bool] = None
        self._real = hmac.compare_digest

    def __call__(self, a: Any, b: Any) -> bool:
        self.calls.append(_pair(a, b))
        return self._real(a, b) if self.verdict is None else self.verdict


@pytest.fixture
def compare_digest(monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    monkeypatch.setattr(hmac, "compare_digest", spy)
    return spy


def _pair(a: Any, b: Any) -> tuple[bytes, ...]:
    """An unordered pair of compared values, as lower-case bytes."""
    return tuple(sorted(value.lower().encode() if isinstance(value, str) else bytes(value).lower()
                        for value in (a, b)))


@pytest.mark.parametrize("signing_key, user, password, verdict, status", [
    (KEY, USER, PASSWORD, None, 200),
    (OLD_KEY, USER, PASSWORD, None, 200),
    ("guess", USER, PASSWORD, None, 400),
    (KEY, USER, "pa55:w0rd-9", None, 403),
    (KEY, "admin", PASSWORD, None, 403),
    # compare_digest's answer is the decision: "equal" lets anything in, "different"
    # refuses even the right signature.
    ("guess", "admin", "guess", True, 200),
    (KEY, USER, PASSWORD, False, 400),
], ids=["key", "old key", "wrong key", "wrong password", "wrong user", "all equal", "none equal"])
def test_checks_are_decided_by_compare_digest(
        compare_digest: Spy, signing_key: str, user: str, password: str,
        verdict: Optional[bool], status: int) -> None:
    app = make_app()
    body = body_for("ok")
    received = signature_value(body, http_date(), "sha256", key=signing_key)
    headers = {"Date": http_date(), "X-Hub-Signature": received,
               "Authorization": f"Basic {token(user, password)}"}
    compare_digest.verdict = verdict
    assert call(app, body, headers).status == status
    # Every configured key is compared with the received digest, whichever one signed,
    # so how long it takes does not tell which key matched.
    expected = [_pair(signature_value(body, http_date(), "sha256", key=key)[7:], received[7:])
                for key in (KEY, OLD_KEY)]
    signature_calls, credential_calls = compare_digest.calls[:2], compare_digest.calls[2:]
    assert sorted(signature_calls) == sorted(expected)
    if status == 400:  # Credentials are checked only once the signature passed.
        assert credential_calls == []
    else:  # Both the user and the password are compared, whichever is wrong.
        assert sorted(credential_calls) == sorted([_pair(user, USER), _pair(password, PASSWORD)])
