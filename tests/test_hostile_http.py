"""Hostile bytes on a raw socket to a real gunicorn: broken chunked framing, bodies cut
short, and handlers leaving unsendable answers all get our JSON, never the server's page."""
from __future__ import annotations

import json
import pathlib
import socket
import textwrap
from collections.abc import Iterator

import pytest

from benchmarks.servers import free_port, gunicorn, serve
from clustaar.webhook.testing import sign

pytestmark = pytest.mark.server

APP = '''
import logging
from clustaar.webhook import Webhook

handler = logging.FileHandler({log!r})
handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
logging.getLogger("clustaar.webhook").addHandler(handler)
logging.getLogger("clustaar.webhook").propagate = False

app = Webhook(private_key="hostile-test-key", request_max_age=None)

def bad_status(request, response, notification):
    response.status = 1000

def bad_header(request, response, notification):
    response.set_header("X-Split", "a\\r\\nX-Injected: 1")

app.on("status", bad_status)
app.on("header", bad_header)
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, pathlib.Path]]:
    """A gunicorn (sync worker) serving APP; yields its port and its log file."""
    folder = tmp_path_factory.mktemp("hostile")
    log = folder / "webhook.log"
    (folder / "hostile_app.py").write_text(textwrap.dedent(APP.format(log=str(log))))
    port = free_port()
    with serve(gunicorn(port, "hostile_app:app", "--pythonpath", str(folder),
                        "--workers", "1"), port):
        yield port, log


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` bytes, half-close, and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def new_log_lines(log: pathlib.Path, before: int) -> list[str]:
    """Lines about requests logged since ``before`` (the worker's start-up says its own)."""
    lines = log.read_text().splitlines()[before:] if log.exists() else []
    return [line for line in lines if not line.startswith("WARNING route for")]


def line_count(log: pathlib.Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


CHUNKED = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
           b"Content-Type: application/json\r\nConnection: close\r\n\r\n")


@pytest.mark.parametrize("framing", [b"0x5\r\n{}{}{\r\n0\r\n\r\n", b"-5\r\n{}{}{\r\n0\r\n\r\n",
                                     b"5\r\n{}{}{}{}{}\r\n0\r\n\r\n", b"10\r\n{}"])
def test_broken_chunked_framing_is_a_400_with_one_warning(
        server: tuple[int, pathlib.Path], framing: bytes) -> None:
    port, log = server
    before = line_count(log)
    status, headers, body = exchange(port, CHUNKED + framing)
    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body)["title"] == "Invalid request body"
    [line] = new_log_lines(log, before)
    assert line.startswith("WARNING rejected POST / with status 400 (Invalid request body)")


def test_a_body_cut_short_is_a_400(server: tuple[int, pathlib.Path]) -> None:
    port, _ = server
    raw = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n"
           b"Connection: close\r\n\r\n" + b'{"topic": "status"}')
    status, _, body = exchange(port, raw)
    assert status == 400
    assert json.loads(body) == {
        "title": "Invalid request body",
        "description": "The request body could not be read: it ended after 19 of the 500 "
                       "bytes announced."}


@pytest.mark.parametrize("topic", ["status", "header"])
def test_an_unsendable_handler_answer_is_our_json_500(server: tuple[int, pathlib.Path],
                                                      topic: str) -> None:
    port, log = server
    before = line_count(log)
    payload = json.dumps({"topic": topic}).encode()
    raw = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(payload)}\r\n"
           f"X-Hub-Signature: {sign(payload, 'hostile-test-key')}\r\n"
           "Connection: close\r\n\r\n").encode() + payload
    status, headers, body = exchange(port, raw)
    assert (status, headers["content-type"]) == (500, "application/json")
    assert json.loads(body)["title"] == "Internal Server Error"
    assert "x-injected" not in headers and "x-split" not in headers
    lines = new_log_lines(log, before)
    assert lines[0] == f"ERROR handler hostile_app.bad_{topic} failed for step ?"
