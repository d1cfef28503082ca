"""The clustaar-webhook command: send, sign and routes, through main() and as real processes."""
from __future__ import annotations

import http.server
import importlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import DATA
from support.servers import http_server

from benchmarks.servers import BIN, EXAMPLES, ROOT, free_port, gunicorn, serve
from clustaar.webhook.cli import ENV_PASSWORD, ENV_PRIVATE_KEY, ENV_USERNAME, main
from clustaar.webhook.platform import encode, notification, sign
from clustaar.webhook.replay import parse_http_date

SECRETS = {ENV_PRIVATE_KEY: "s3cret", ENV_USERNAME: "bot", ENV_PASSWORD: "pa:ss:word"}
WELCOME_STEP = "5c1b7a0e1a2b3c4d5e6f7a80"  # examples/bot.py
VECTOR_EMPTY = "sha1=fc2bdea0e6a9e0dc333dece7568b5c3337a92342"
VECTOR_STEP = "sha1=c401ad18c5ed1b0b19d37a4e0e5dab958b6b9a2f"
HANDLERS = ["bot.welcome_back", "bot.welcome", "bot.goodbye"]  # examples/bot.py, in order


@pytest.fixture(scope="module")
def bot_url() -> Iterator[str]:
    """The example bot under gunicorn on 127.0.0.1, with every secret set."""
    port = free_port()
    with serve(gunicorn(port), port, env=SECRETS):
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret leaks in from the environment, and sys.path changes are undone."""
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def answer(out: str) -> tuple[str, Any]:
    """The status line and the parsed JSON that ``send`` printed."""
    status, _, body = out.partition("\n")
    return status, json.loads(body)


def assert_one_line_error(err: str, text: str) -> None:
    assert err.startswith("clustaar-webhook: error: ") and err.count("\n") == 1, err
    assert text in err and "Traceback" not in err


# send, against the example bot served by gunicorn

@pytest.mark.server
def test_send_posts_a_signed_notification_and_prints_the_answer(
        capsys: pytest.CaptureFixture[str], bot_url: str, secrets: None) -> None:
    code, out, err = run(capsys, "send", bot_url, "--step-id", WELCOME_STEP)
    assert (code, err) == (0, "")
    assert answer(out) == ("200 OK", {
        "actions": [{"type": "send_text_action", "alternatives": ["Hello Ada!"]}],
        "session": {"values": {"visits": 1, "name": "Ada"}}, "interlocutor": None})
    assert '\n  "actions": [\n' in out  # Pretty-printed.


@pytest.mark.parametrize("visits, text", [
    ("3", "Welcome back Tintin! This is visit number 4."),
    ('"3"', "Welcome back Tintin! This is visit number 1."),  # Quoted: a string, not a count.
])
@pytest.mark.server
def test_send_session_values_are_json_when_they_parse(
        capsys: pytest.CaptureFixture[str], bot_url: str, secrets: None, visits: str,
        text: str) -> None:
    code, out, _ = run(capsys, "send", bot_url, "--step-id", WELCOME_STEP,
                       "--session", "name=Tintin", "--session", f"visits={visits}")
    assert code == 0
    assert answer(out)[1]["actions"][0]["alternatives"] == [text]


@pytest.mark.parametrize("options, status, description", [
    (["--private-key", "wrong"], "400 Bad Request", "The request's signature is invalid."),
    (["--password", "guess"], "403 Forbidden", "This call needs authentication"),
    (["--date", "none"], "400 Bad Request", "The request's Date header is missing."),
    (["--date", "Mon, 01 Jan 2001 00:00:00 GMT"], "400 Bad Request", "Request is too old"),
    (["--date", "yesterday"], "400 Bad Request",
     'The request\'s Date header is invalid. Expected an HTTP date such as "Tue, 01 Dec 2026 21:00:00 GMT".'),
    (["--step-id", "5c1b7a0e1a2b3c4d5e6f7aff"], "404 Not Found", "No handler accepts"),
])
@pytest.mark.server
def test_send_shows_rejections_and_exits_1(
        capsys: pytest.CaptureFixture[str], bot_url: str, secrets: None, options: list[str],
        status: str, description: str) -> None:
    code, out, err = run(capsys, "send", bot_url, *options)
    assert (code, err) == (1, "")
    shown_status, body = answer(out)
    assert shown_status == status and description in body["description"]


@pytest.mark.server
def test_send_options_stand_in_for_the_environment(
        capsys: pytest.CaptureFixture[str], bot_url: str) -> None:
    assert answer(run(capsys, "send", bot_url, "--step-id", WELCOME_STEP)[1])[1][
        "description"].endswith("The request's signature is missing.")
    code, out, _ = run(capsys, "send", bot_url, "--step-id", WELCOME_STEP, "--private-key",
                       "s3cret", "--username", "bot", "--password", "pa:ss:word")
    assert (code, out.splitlines()[0]) == (0, "200 OK")


@pytest.mark.server
def test_send_file_sends_its_exact_bytes(capsys: pytest.CaptureFixture[str], bot_url: str,
                                         secrets: None, tmp_path: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(notification(step_id=WELCOME_STEP, session_values={"name": "Haddock"}),
                      indent=4).encode()
    (tmp_path / "payload.json").write_bytes(body)
    code, out, _ = run(capsys, "send", bot_url, "--file", str(tmp_path / "payload.json"))
    assert code == 0 and "Welcome back Haddock!" in out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[]")))
    code, out, _ = run(capsys, "send", bot_url, "--file", "-")
    assert code == 1 and answer(out)[1]["title"] == "Invalid JSON"


# send, against odd servers

class _OddHandler(http.server.BaseHTTPRequestHandler):
    """Answers that are not JSON, redirects, empty answers, and at /echo what it received."""

    def do_POST(self) -> None:
        received = self.rfile.read(int(self.headers["Content-Length"]))
        echo = json.dumps({"body": received.decode(),
                           "headers": {name.lower(): value for name, value in self.headers.items()}})
        status, body = {"/text": (200, b"plain words"), "/empty": (204, b""),
                        "/echo": (200, echo.encode())}.get(self.path, (302, b""))
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/text")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def odd_url() -> Iterator[str]:
    with http_server(_OddHandler) as url:
        yield url


@pytest.mark.parametrize("path, code, out", [
    ("/text", 0, "200 OK\nplain words\n"),
    ("/empty", 0, "204 No Content\n"),
    ("/redirect", 1, "302 Found\n"),  # Not followed: urllib would re-send it as a GET.
])
def test_send_prints_any_answer(capsys: pytest.CaptureFixture[str], odd_url: str, path: str,
                                code: int, out: str) -> None:
    assert run(capsys, "send", odd_url + path) == (code, out, "")


def test_send_builds_the_input_channel_interlocutor_and_headers_asked_for(
        capsys: pytest.CaptureFixture[str], odd_url: str) -> None:
    date = "Tue, 01 Dec 2026 21:00:00 GMT"
    code, out, _ = run(capsys, "send", odd_url + "/echo", "--text", "A-42", "--channel", "facebook",
                       "--interlocutor", "firstName=Tintin", "--interlocutor", "isLogged=true",
                       "--header", "X-Trace: abc", "--header", f"date:{date}",
                       "--private-key", "k", "--algorithm", "SHA256")
    assert code == 0
    seen = answer(out)[1]
    data = json.loads(seen["body"])["data"]
    assert data["input"] == {"type": "message", "text": "A-42", "attachments": []}
    assert data["channel"] == "facebook"
    assert (data["interlocutor"]["firstName"], data["interlocutor"]["isLogged"],
            data["interlocutor"]["lastName"]) == ("Tintin", True, "Lovelace")
    headers = seen["headers"]
    assert (headers["x-trace"], headers["date"]) == ("abc", date)
    assert headers["x-hub-signature"] == sign(seen["body"].encode(), "k", date, "sha256")


@pytest.mark.server
def test_send_reads_secrets_from_the_variables_it_is_told(
        capsys: pytest.CaptureFixture[str], bot_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"MY_BOT_KEY": "s3cret", "MY_BOT_USER": "bot",
                        "MY_BOT_PASSWORD": "pa:ss:word"}.items():
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "send", bot_url, "--step-id", WELCOME_STEP, "--private-key-env",
                       "MY_BOT_KEY", "--username-env", "MY_BOT_USER", "--password-env",
                       "MY_BOT_PASSWORD")
    assert (code, out.splitlines()[0]) == (0, "200 OK")
    monkeypatch.setenv("MY_EMPTY_KEY", "")
    code, out, err = run(capsys, "send", bot_url, "--private-key-env", "MY_EMPTY_KEY")
    assert (code, out) == (2, "")
    assert_one_line_error(err, "MY_EMPTY_KEY is not set (--private-key-env)")


def test_send_to_a_closed_port_says_it_cannot_reach_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    code, out, err = run(capsys, "send", url)
    assert (code, out) == (1, "")
    assert_one_line_error(err, f"cannot reach {url}")


def test_send_gives_up_on_a_server_that_never_answers(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        code, out, err = run(capsys, "send", url, "--timeout", "0.3")
    assert (code, out) == (1, "")
    assert_one_line_error(err, f"timed out waiting for an answer from {url} (after 0.3 seconds)")


@pytest.mark.parametrize("argv, code, text", [
    (["send"], 2, "the following arguments are required: URL"),
    (["send", "ftp://127.0.0.1/"], 2,
     "invalid URL 'ftp://127.0.0.1/': it must start with http:// or https://"),
    (["send", "http://x/", "--file", "a.json", "--step-id", "b"], 2, "--file cannot be combined"),
    (["send", "http://x/", "--username", "bot"], 2, "give both a username and a password"),
    (["send", "http://x/", "--session", "novalue"], 2, "expected KEY=VALUE, not 'novalue'"),
    (["send", "http://[::1/"], 2, "invalid URL 'http://[::1/'"),
    (["send", "http://x/", "--timeout", "soon"], 2, "expected a positive number of seconds"),
    (["send", "http://x/", "--timeout", "0"], 2, "expected a positive number of seconds"),
    (["send", "http://x/", "--file", "/nonexistent/x.json"], 1, "cannot read /nonexistent/x.json"),
    (["sign", "x.json"], 2,
     f"a private key is needed: --private-key, --private-key-env or {ENV_PRIVATE_KEY}"),
    (["sign", "--private-key", "k", "--private-key-env", "KEY", "-"], 2,
     "argument --private-key-env: not allowed with argument --private-key"),
    (["send", "http://x/", "--file", "a.json", "--text", "hi"], 2, "--file cannot be combined"),
    (["send", "http://x/", "--header", "X-Trace"], 2, "argument --header: expected NAME:VALUE"),
    (["send", "http://x/", "--interlocutor", "=Tintin"], 2, "expected KEY=VALUE, not '=Tintin'"),
    (["sign", "--private-key", "k", "/nonexistent/x.json"], 1, "cannot read /nonexistent/x.json"),
    (["sign", "--private-key", "k", "--algorithm", "md5", "-"], 2, "invalid choice: 'md5'"),
    (["nope"], 2, "invalid choice: 'nope'"),
    ([], 2, "the following arguments are required: command"),
])
def test_mistakes_are_one_line_on_stderr(capsys: pytest.CaptureFixture[str], argv: list[str],
                                         code: int, text: str) -> None:
    result = run(capsys, *argv)
    assert result[:2] == (code, "")
    assert_one_line_error(result[2], text)


# sign

def test_sign_prints_the_contract_vectors_from_a_file_or_stdin(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    vector = str(DATA / "step_reached_minimal.json")
    assert run(capsys, "sign", "--private-key", "test", vector) == (0, VECTOR_STEP + "\n", "")
    monkeypatch.setenv(ENV_PRIVATE_KEY, "test")  # The key may come from the environment.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"{}")))
    assert run(capsys, "sign", "-") == (0, VECTOR_EMPTY + "\n", "")


def test_sign_date_none_is_no_date_header_and_now_is_shown(
        capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    body = str(tmp_path / "body")
    (tmp_path / "body").write_bytes(b"{}")
    monkeypatch.setenv("MY_KEY", "test")
    for word in ("none", "NONE"):
        assert run(capsys, "sign", "--private-key-env", "MY_KEY", "--date", word, body) == (
            0, VECTOR_EMPTY + "\n", "")
    code, out, err = run(capsys, "sign", "--private-key", "k", "--date", "now", body)
    label, _, date = err.rstrip("\n").partition(": ")
    assert (code, label) == (0, "Date")
    sent = parse_http_date(date, time.time())
    assert sent is not None and abs(sent - time.time()) < 5
    assert out == sign(b"{}", "k", date) + "\n"


def test_sign_date_and_algorithm(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    (tmp_path / "body").write_bytes(b'{"a": 1}')
    date = "Sat, 28 Nov 2026 12:00:00 GMT"
    code, out, _ = run(capsys, "sign", "--private-key", "k", "--date", date, "--algorithm",
                       "SHA256", str(tmp_path / "body"))
    assert (code, out) == (0, sign(b'{"a": 1}', "k", date, "sha256") + "\n")
    assert out.startswith("sha256=") and len(out) == len("sha256=") + 64 + 1


# routes

def test_routes_lists_the_example_bot_in_order(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    bot = importlib.import_module("bot")
    code, out, err = run(capsys, "routes", "--pythonpath", str(EXAMPLES), "bot:app")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(bot.app.routes) == len(HANDLERS)
    assert [tuple(re.split(r"\s{2,}", line)) for line in lines] == [
        (route.topic, ", ".join(map(repr, route.filters)), handler)
        for route, handler in zip(bot.app.routes, HANDLERS)]
    assert all("StepID('5c1b7a0e1a2b3c4d5e6f7a8" in line for line in lines)
    assert len({line.index(" bot.") for line in lines}) == 1  # Columns are aligned.


ROUTED_MODULE = '''
from clustaar.webhook import Webhook
from clustaar.webhook.filters import JSONKeyEquals, StepID

def is_vip(request):
    return True

class Handler:
    def __call__(self, request, response, notification):
        return None

app = Webhook()
app.on("custom.topic", lambda request, response, notification: None)
app.on("conversation.step_reached", Handler(), filters=[StepID(["a", "b"]), is_vip])
app.on("conversation.step_reached", filters=~JSONKeyEquals("data.x", 1) | is_vip)(is_vip)
empty = Webhook()
not_a_webhook = 42
'''


def test_routes_names_plain_callables_and_imports_from_the_working_directory(
        capsys: pytest.CaptureFixture[str], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "p4_routed.py").write_text(ROUTED_MODULE)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "routes", "p4_routed:app")
    assert code == 0
    assert [line.split() for line in out.splitlines()] == [
        ["custom.topic", "-", "p4_routed.<lambda>"],
        ["conversation.step_reached", "StepID(['a',", "'b']),", "p4_routed.is_vip",
         "p4_routed.Handler", "instance"],
        ["conversation.step_reached", "(~JSONKeyEquals('data.x',", "1)", "|", "is_vip)",
         "p4_routed.is_vip"],
    ]
    assert run(capsys, "routes", "p4_routed:empty") == (0, "no routes\n", "")


@pytest.mark.parametrize("target, code, text", [
    ("p4_routed", 2, "expected MODULE:ATTR (e.g. bot:app), not 'p4_routed'"),
    ("p4_missing_module:app", 1, "cannot import p4_missing_module: ModuleNotFoundError"),
    ("p4_broken:app", 1, "cannot import p4_broken: ValueError: auth_username and auth_password"),
    ("p4_routed:nothing", 1, "p4_routed has no attribute 'nothing'"),
    ("p4_routed:not_a_webhook", 1, "p4_routed:not_a_webhook is a int, not a Webhook"),
])
def test_routes_errors(capsys: pytest.CaptureFixture[str], tmp_path: Any, target: str, code: int,
                       text: str) -> None:
    (tmp_path / "p4_routed.py").write_text(ROUTED_MODULE)
    (tmp_path / "p4_broken.py").write_text(
        "from clustaar.webhook import Webhook\napp = Webhook(auth_username='x')\n")
    result = run(capsys, "routes", "--pythonpath", str(tmp_path), target)
    assert result[:2] == (code, "")
    assert_one_line_error(result[2], text)


# help and version

@pytest.mark.parametrize("command", ["send", "sign", "routes"])
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and out.startswith(f"usage: clustaar-webhook {command} ")


@pytest.mark.parametrize("command, default", [("send", "now"), ("sign", "none")])
def test_both_signing_commands_explain_the_date_alike(capsys: pytest.CaptureFixture[str],
                                                      command: str, default: str) -> None:
    text = " ".join(run(capsys, command, "--help")[1].split())
    assert ("the Date header: now, none (no Date header: the text None is signed, as the platform "
            'does) or this exact value, an HTTP date such as "Tue, 01 Dec 2026 21:00:00 GMT" '
            f"(default {default})") in text
    assert "--private-key-env NAME" in text and "--algorithm A" in text


def test_top_level_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and all(name in out for name in ("send", "sign", "routes"))
    assert run(capsys, "--version") == (0, "clustaar-webhook 1.0.0\n", "")


# real processes

def process(*argv: str, stdin: bytes = b"", env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), input=stdin.decode(), capture_output=True, text=True,
                          cwd=ROOT, timeout=60, env={**os.environ, **(env or {})})


def test_sign_as_a_console_script() -> None:
    done = process(str(BIN / "clustaar-webhook"), "sign", "-", stdin=b"{}",
                   env={ENV_PRIVATE_KEY: "test"})
    assert (done.returncode, done.stdout, done.stderr) == (0, VECTOR_EMPTY + "\n", "")
    done = process(str(BIN / "clustaar-webhook"), "routes", "p4_missing_module:app")
    assert done.returncode == 1 and done.stdout == ""
    assert_one_line_error(done.stderr, "cannot import p4_missing_module")


def test_routes_as_python_dash_m() -> None:
    done = process(sys.executable, "-m", "clustaar.webhook", "routes", "--pythonpath",
                   str(EXAMPLES), "bot:app", env={ENV_PRIVATE_KEY: "test"})
    assert (done.returncode, done.stderr) == (0, "")
    assert [line.split()[-1] for line in done.stdout.splitlines()] == HANDLERS


@pytest.mark.server
def test_send_as_a_console_script(bot_url: str) -> None:
    done = process(str(BIN / "clustaar-webhook"), "send", bot_url, "--step-id", WELCOME_STEP,
                   env=SECRETS)
    assert (done.returncode, done.stderr) == (0, "")
    assert answer(done.stdout)[1]["actions"][0]["alternatives"] == ["Hello Ada!"]


def test_a_closed_standard_output_ends_quietly_with_1() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # A reader already gone, as `| head -c 10` is once it has its bytes.
    try:
        done = subprocess.run([sys.executable, "-m", "clustaar.webhook", "routes", "--pythonpath",
                               str(EXAMPLES), "bot:app"], stdout=write_end, stderr=subprocess.PIPE,
                              cwd=ROOT, timeout=60, env={**os.environ, ENV_PRIVATE_KEY: "test"})
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, b"")


def test_the_command_loads_neither_the_test_kit_nor_webtest() -> None:
    script = (
        "import sys; sys.modules['webtest'] = None\n"
        "from clustaar.webhook.cli import main\n"
        "code = main(['sign', '-'])\n"
        "assert 'clustaar.webhook.testing' not in sys.modules\n"
        "sys.exit(code)\n"
    )
    done = process(sys.executable, "-c", script, stdin=encode({}), env={ENV_PRIVATE_KEY: "test"})
    assert (done.returncode, done.stdout, done.stderr) == (0, VECTOR_EMPTY + "\n", "")
