"""The example bot (``examples/bot.py``) behind a real server: its secrets and its requests."""
from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import pathlib
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any, NamedTuple, Optional

from . import DATA
from .requests import basic, http_date, signed_headers

KEY, USER, PASSWORD = "servers-key", "platform", "pass:word"
#: The environment the example bot reads its secrets from.
SECRETS = {"CLUSTAAR_WEBHOOK_PRIVATE_KEY": KEY, "CLUSTAAR_WEBHOOK_AUTH_USERNAME": USER,
           "CLUSTAAR_WEBHOOK_AUTH_PASSWORD": PASSWORD}
WELCOME_STEP = "5c1b7a0e1a2b3c4d5e6f7a80"  # examples/bot.py


class Server(NamedTuple):
    port: int
    prefix: str


def notification(first_name: str = "Ada", values: Any = None) -> bytes:
    """The shipped vector at the bot's welcome step."""
    document = json.loads((DATA / "step_reached_minimal.json").read_bytes())
    document["data"]["step"]["id"] = WELCOME_STEP
    document["data"]["session"]["values"] = {} if values is None else values
    document["data"]["interlocutor"]["firstName"] = first_name
    return json.dumps(document).encode()


def fresh_headers(body: bytes, key: str = KEY, auth: Optional[str] = None) -> dict[str, str]:
    """Headers the platform would send now (the server runs on the real clock)."""
    return signed_headers(body, key=key, date=http_date(time.time()),
                          auth=auth or basic(USER, PASSWORD))


def post(server: Server, body: bytes, headers: dict[str, str],
         path: str = "/") -> tuple[int, str, Any]:
    """POST over a fresh connection: status, Content-Type and the parsed JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", server.prefix + path, body, headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    return response.status, response.getheader("Content-Type", ""), json.loads(data)


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded stdlib HTTP server on 127.0.0.1 with ``handler``, for the ``with`` block;
    yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def app_module(tmp_path_factory: Any, name: str, source: str) -> pathlib.Path:
    """A folder holding module ``name`` (``source``, dedented), for a server to import."""
    folder: pathlib.Path = tmp_path_factory.mktemp(name)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder
