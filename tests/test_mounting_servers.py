"""The README's recipes for serving the bot under a URL prefix, with the real servers.

uwsgi (the pyuwsgi wheel) with ``--mount`` also serves the first mounted app at
``/`` unless ``--no-default-app`` is given; gunicorn with ``SCRIPT_NAME`` answers
paths outside the prefix with its own HTML error; the bare dispatcher of
``examples/wsgi_mount.py`` under gunicorn answers them with a clean 404. Each server
binds 127.0.0.1 on a free port and is stopped by its PID.
"""
from __future__ import annotations

import http.client
import json
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.servers import EXAMPLES, free_port, gunicorn, serve, uwsgi
from clustaar.webhook.testing import encode, http_date, notification, sign

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
KEY = "prefix-key"
SECRETS = {"CLUSTAAR_WEBHOOK_PRIVATE_KEY": KEY}
WELCOME_STEP = "5c1b7a0e1a2b3c4d5e6f7a80"  # examples/bot.py
HELLO = {"type": "send_text_action", "alternatives": ["Hello Ada!"]}

#: The options the README gives for each recipe, tested here as written there.
UWSGI_MOUNT = ["--mount", "/bot=bot:app", "--manage-script-name", "--no-default-app"]
UWSGI_404 = ["--route-uri", "^/bot(/|$) last:", "--route-uri", "^ break:404 Not Found"]


def post(port: int, path: str) -> tuple[int, str, bytes]:
    """POST a signed welcome notification: status, media type and raw body."""
    body = encode(notification(step_id=WELCOME_STEP, interlocutor={"firstName": "Ada"}))
    date = http_date()
    headers = {"Content-Type": "application/json", "Date": date, "X-Hub-Signature": sign(body, KEY, date)}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return (response.status, response.getheader("Content-Type", "").split(";")[0].strip(),
                response.read())
    finally:
        connection.close()


def bot_answer(port: int, path: str) -> Any:
    """The bot's JSON answer at ``path``, which must be a 200."""
    status, media_type, body = post(port, path)
    assert (status, media_type) == (200, "application/json"), body[:300]
    return json.loads(body)


def bot_error(port: int, path: str) -> tuple[int, Any]:
    """A JSON error the bot itself gave at ``path``."""
    status, media_type, body = post(port, path)
    assert media_type == "application/json", body[:300]
    return status, json.loads(body)


def not_the_bot(port: int, path: str) -> tuple[int, str, bytes]:
    """What the server (not the bot, which only answers JSON) gave at ``path``."""
    status, media_type, body = post(port, path)
    assert media_type != "application/json", body[:300]
    return status, media_type, body


def test_the_readme_gives_the_tested_options() -> None:
    text = README.read_text(encoding="utf-8")
    for option in ("--mount /bot=", "--manage-script-name", "--no-default-app",
                   "--route-uri '^/bot(/|$) last:'", "--route-uri '^ break:404 Not Found'",
                   "--no-control-socket", "--timeout", "DispatcherMiddleware"):
        assert option in text, option


def test_uwsgi_mount_alone_also_serves_the_bot_at_the_root() -> None:
    port = free_port()
    with serve(uwsgi(port, None, *UWSGI_MOUNT[:-1]), port, env=SECRETS):
        assert bot_answer(port, "/bot/")["actions"][0] == HELLO
        assert bot_answer(port, "/")["actions"][0] == HELLO  # The trap: uwsgi's default app.


@pytest.fixture(scope="module")
def uwsgi_no_default_app() -> Iterator[int]:
    port = free_port()
    with serve(uwsgi(port, None, *UWSGI_MOUNT), port, env=SECRETS):
        yield port


def test_uwsgi_with_no_default_app_serves_the_bot_only_under_its_prefix(
        uwsgi_no_default_app: int) -> None:
    port = uwsgi_no_default_app
    assert bot_answer(port, "/bot/")["actions"][0] == HELLO
    assert bot_answer(port, "/bot")["actions"][0] == HELLO
    assert bot_error(port, "/bot/elsewhere")[0] == 404
    for path in ("/", "/elsewhere"):  # uwsgi's own plain-text 500: it has no app there.
        assert not_the_bot(port, path) == (500, "text/plain", b"Internal Server Error")


def test_uwsgi_routes_answer_404_outside_the_prefix() -> None:
    port = free_port()
    with serve(uwsgi(port, None, *UWSGI_MOUNT, *UWSGI_404), port, env=SECRETS):
        assert bot_answer(port, "/bot/")["actions"][0] == HELLO
        assert bot_answer(port, "/bot")["actions"][0] == HELLO
        for path in ("/", "/elsewhere", "/botany"):
            assert not_the_bot(port, path)[0] == 404
        assert bot_error(port, "/bot/elsewhere") == (404, {
            "title": "404 Not Found", "description": "There is no webhook at this path."})


def test_gunicorn_with_script_name_answers_other_paths_with_its_own_error() -> None:
    port = free_port()
    with serve(gunicorn(port, "bot:app"), port, env={**SECRETS, "SCRIPT_NAME": "/bot"}):
        assert bot_answer(port, "/bot/")["actions"][0] == HELLO
        assert bot_answer(port, "/bot")["actions"][0] == HELLO
        status, media_type, body = not_the_bot(port, "/")
        assert (status, media_type) == (500, "text/html")
        assert re.search(rb"does not start with SCRIPT_NAME", body)
        # The prefix is cut as text, not by path segment: /botany reaches the bot.
        assert bot_error(port, "/botany")[0] == 404


def test_gunicorn_serving_the_dispatcher_answers_404_outside_the_prefix(
        tmp_path: pathlib.Path) -> None:
    (tmp_path / "mybot_wsgi.py").write_text(
        "from wsgi_mount import mount\nimport bot\n\napplication = mount({'/bot': bot.app})\n")
    port = free_port()
    command = gunicorn(port, "mybot_wsgi:application", "--pythonpath", f"{EXAMPLES},{tmp_path}")
    with serve(command, port, env=SECRETS):
        assert bot_answer(port, "/bot/")["actions"][0] == HELLO
        assert bot_answer(port, "/bot")["actions"][0] == HELLO
        for path in ("/", "/elsewhere", "/botany"):
            assert not_the_bot(port, path) == (404, "text/plain", b"Not Found\n")
