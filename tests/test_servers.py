"""The example bot behind real servers, over real sockets on 127.0.0.1.

gunicorn with sync workers and with gthread threads, and uwsgi's HTTP router,
each at the root and mounted under a URL prefix, answer signed, unsigned and
malformed requests the same way; gunicorn also refuses an oversize chunked body.
"""
from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.requests import basic, http_date
from support.servers import SECRETS, USER, Server, fresh_headers, notification, post

from benchmarks.servers import free_port, gunicorn, serve, uwsgi

pytestmark = pytest.mark.server

PREFIX = "/hooks/clustaar"


def _command(name: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment of one server configuration."""
    if name == "gunicorn-sync":
        return gunicorn(port, "bot:app", "--workers", "2"), {}
    if name == "gunicorn-gthread":
        return gunicorn(port, "bot:app", "--worker-class", "gthread", "--threads", "4"), {}
    if name == "gunicorn-gthread-prefix":
        return (gunicorn(port, "bot:app", "--worker-class", "gthread", "--threads", "2"),
                {"SCRIPT_NAME": PREFIX})
    if name == "uwsgi":
        return uwsgi(port), {}
    return uwsgi(port, None, "--mount", f"{PREFIX}=bot:app", "--manage-script-name",
                 "--no-default-app"), {}  # The README's recipe.


CONFIGS = ["gunicorn-sync", "gunicorn-gthread", "gunicorn-gthread-prefix", "uwsgi", "uwsgi-prefix"]


@pytest.fixture(scope="module", params=CONFIGS)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    port = free_port()
    command, env = _command(request.param, port)
    with serve(command, port, env={**SECRETS, **env}):
        yield Server(port, PREFIX if request.param.endswith("-prefix") else "")


def test_signed_request_is_answered(server: Server) -> None:
    body = notification("Ada")
    status, content_type, answer = post(server, body, fresh_headers(body))
    assert (status, content_type.split(";")[0]) == (200, "application/json")
    assert answer["actions"][0] == {"type": "send_text_action", "alternatives": ["Hello Ada!"]}
    assert answer["session"]["values"] == {"name": "Ada", "visits": 1}


def test_unsigned_request_is_rejected(server: Server) -> None:
    body = notification()
    headers = fresh_headers(body)
    del headers["X-Hub-Signature"]
    status, content_type, answer = post(server, body, headers)
    assert (status, content_type.split(";")[0]) == (400, "application/json")
    assert answer == {"title": "Invalid header value", "description":
                      'The value provided for the "X-Hub-Signature" header is invalid. '
                      "The request's signature is missing."}


@pytest.mark.parametrize("body, title", [(b'{"topic": ', "Invalid JSON"),
                                         (b"\xff\xfe", "Invalid JSON"),
                                         (notification(values=[]), "Invalid notification")],
                         ids=["truncated", "not-utf8", "mistyped"])
def test_malformed_request_is_rejected(server: Server, body: bytes, title: str) -> None:
    status, content_type, answer = post(server, body, fresh_headers(body))
    assert (status, content_type.split(";")[0], answer["title"]) == (400, "application/json", title)
    assert set(answer) == {"title", "description"}


def test_other_secrets_are_refused(server: Server) -> None:
    body = notification()
    assert post(server, body, fresh_headers(body, key="not-the-key"))[0] == 400
    wrong_password = fresh_headers(body, auth=basic(USER, "guess"))
    assert post(server, body, wrong_password)[2] == {
        "title": "Invalid credentials", "description": "This call needs authentication"}


def test_only_the_mount_path_answers(server: Server) -> None:
    body = notification()
    status, _, answer = post(server, body, fresh_headers(body), path="/elsewhere")
    assert status == 404 and set(answer) == {"title", "description"}
    if server.prefix:  # The prefix without its trailing slash is the mount path too.
        assert post(server, body, fresh_headers(body), path="")[0] == 200


def post_chunked(port: int, size: int) -> tuple[int, Any]:
    """POST ``size`` bytes with Transfer-Encoding: chunked (no Content-Length)."""
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/json\r\nDate: {http_date(time.time())}\r\n\r\n")
    chunk = b" " * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            for _ in range(-(-size // len(chunk))):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # The server may answer and close before reading it all.
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


@pytest.mark.parametrize("workers", [[], ["--worker-class", "gthread", "--threads", "2"]],
                         ids=["sync", "gthread"])
def test_gunicorn_refuses_an_oversize_chunked_body(workers: list[str]) -> None:
    port = free_port()
    with serve(gunicorn(port, "bot:app", *workers), port, env=SECRETS):
        status, answer = post_chunked(port, 1024 * 1024 + 65536)
    assert status == 413
    assert answer == {"title": "Request body too large",
                      "description": "The request body must not exceed 1048576 bytes."}
