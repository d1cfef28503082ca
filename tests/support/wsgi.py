"""One raw WSGI call, as a server makes it: for what webtest refuses to send
(non-ASCII headers, a lying Content-Length, a chunked body)."""
from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any, NamedTuple, Optional


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(app: Any, body: bytes = b"", headers: Optional[Mapping[str, str]] = None,
         method: str = "POST", path: str = "/", content_length: Optional[str] = "",
         terminated: bool = False) -> Answer:
    """One raw WSGI call; ``content_length=""`` means the true length, ``None`` none.
    Header names of the answer come back in lower case."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(), "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length or str(len(body))
    if terminated:
        environ["wsgi.input_terminated"] = True
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    started: list[Any] = []
    chunks = app(environ, lambda status, hdrs, exc_info=None: started.extend((status, hdrs)))
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    status, hdrs = started
    return Answer(int(status.split()[0]), {k.lower(): v for k, v in hdrs}, data)
