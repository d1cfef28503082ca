"""A worker process of ``python -m benchmarks original``: serves batches, times them.

``python -m benchmarks.original_worker original`` runs in the original's venv and serves
:mod:`benchmarks.bot` built with ``clustaar.webhook`` 0.1.7; ``... ours`` runs in our venv
and serves the same bot on our ``Webhook`` and ``AsyncWebhook``, plus the bare Falcon floor.
Both start with the repository as working directory. The original's worker moves the
repository to the end of ``sys.path`` first, so ``clustaar.webhook`` is the installed 0.1.7
and never our package (it checks, and says which file it loaded).

Protocol, one JSON object a line: the worker first writes its versions and cases; then for
each line ``{"case", "body": "small"|"large", "start", "count"}`` read on stdin it builds
the requests outside the timing (the shipped vector, or :func:`benchmarks.varied.varied_body`
of ``start .. start+count-1``; ``Date`` = now, the ``X-Hub-Signature`` sha1 HMAC computed
here with :mod:`hmac`, Basic credentials), serves them in a row straight to the WSGI callable
(or the ASGI one, on one event loop kept for the whole run), timed in CPU and wall-clock
time, then checks every answer (200, JSON) and writes the µs per request and, per request,
the sha256 of its answer parsed and dumped again canonically.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import sys
import time
import traceback
import warnings
from email.utils import formatdate
from importlib import metadata
from typing import Any, Callable

from .bodies import SMALL_VECTOR, STEP_ID
from .varied import varied_body

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_STEP: str = json.loads(SMALL_VECTOR)["data"]["step"]["id"]
Answer = tuple[str, list[tuple[str, str]], bytes]


def bodies(kind: str, start: int, count: int) -> list[bytes]:
    """The bodies of one batch: the shipped vector every time, or distinct users."""
    if kind == "small":
        return [SMALL_VECTOR] * count
    return [varied_body(index) for index in range(start, start + count)]


def environ_of(body: bytes, date: str) -> dict[str, Any]:
    """A WSGI environ (without ``wsgi.input``) for a POST signed as the platform signs it
    (:mod:`.bot` is imported here, not above: the original's worker must first set its path)."""
    from .bot import KEY, PASSWORD, USER

    signed = b"date=" + date.encode("latin-1") + b"\n" + body
    signature = hmac.new(KEY.encode(), signed, hashlib.sha1).hexdigest()
    authorization = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "HTTP_DATE": date,
        "HTTP_X_HUB_SIGNATURE": "sha1=" + signature, "HTTP_AUTHORIZATION": authorization,
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def serve_wsgi(app: Callable[..., Any], batch: list[tuple[dict[str, Any], bytes]]) -> list[Answer]:
    """Serve ``batch`` in a row; the environs are copied first (outside any timing)."""
    environs = []
    for environ, body in batch:
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environs.append(environ)
    return _serve_environs(app, environs)


def _serve_environs(app: Callable[..., Any], environs: list[dict[str, Any]]) -> list[Answer]:
    answers: list[Answer] = []
    started: list[Any] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        started[:] = (status, headers)

    for environ in environs:
        chunks = app(environ, start_response)
        answers.append((started[0], list(started[1]), b"".join(chunks)))
    return answers


class AsgiDriver:
    """Serves batches to an ASGI app on one event loop kept for the whole run (ours only)."""

    def __init__(self, app: Any) -> None:
        from . import throughput  # Imports our package: never on the original's side.

        self.app, self.loop, self._serve_all = app, asyncio.new_event_loop(), throughput._serve_all

    @staticmethod
    def scope(environ: dict[str, Any]) -> dict[str, Any]:
        """The HTTP scope a server builds for the request ``environ`` describes."""
        headers = [(b"host", b"127.0.0.1:8000"),
                   (b"content-type", environ["CONTENT_TYPE"].encode("latin-1")),
                   (b"content-length", environ["CONTENT_LENGTH"].encode("latin-1"))]
        headers += [(name[5:].replace("_", "-").lower().encode("latin-1"),
                     value.encode("latin-1"))
                    for name, value in environ.items() if name.startswith("HTTP_")]
        return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
                "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/",
                "raw_path": b"/", "root_path": "", "query_string": b"", "headers": headers,
                "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}

    def prepare(self, batch: list[tuple[dict[str, Any], bytes]]) -> list[tuple[dict[str, Any], bytes]]:
        return [(self.scope(environ), body) for environ, body in batch]

    def serve(self, work: list[tuple[dict[str, Any], bytes]]) -> list[Any]:
        return self.loop.run_until_complete(self._serve_all(self.app, work))

    @staticmethod
    def answers(raw: list[Any]) -> list[Answer]:
        return [(str(status), [(name.decode("latin-1"), value.decode("latin-1"))
                               for name, value in headers], body) for status, headers, body in raw]

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


def canonical_hash(body: bytes) -> str:
    """sha256 of the answer parsed and dumped again with sorted keys: the same for two
    answers carrying the same JSON, however each library spells it."""
    return hashlib.sha256(json.dumps(json.loads(body), sort_keys=True).encode()).hexdigest()


def check(case: str, answers: list[Answer]) -> None:
    """Every answer is a 200 with a JSON body, or the run fails loudly."""
    for status, headers, body in answers:
        content_type = {name.lower(): value for name, value in headers}.get("content-type", "")
        if not (status.startswith("200") and content_type.startswith("application/json")):
            raise AssertionError(f"{case}: {status} {content_type!r} {body[:300]!r}")


#: The case name of our Webhook with one idea of :mod:`.ablations` undone.
ABLATED = "without:"


def _ablation(case: str) -> Any:
    """The patch undoing the case's idea while its batch runs; nothing for other cases."""
    if not case.startswith(ABLATED):
        return contextlib.nullcontext()
    from .ablations import without

    return without(case[len(ABLATED):])


class Worker:
    """The apps of one side, by case name and body kind, and how to time a batch of them."""

    def __init__(self, side: str, ablations: bool = True) -> None:
        from . import bot

        self.apps: dict[tuple[str, str], Any] = {}
        self.drivers: dict[tuple[str, str], AsgiDriver] = {}
        names = ["original"] if side == "original" else ["webhook", "async", "floor"]
        if side == "ours" and ablations:
            from .ablations import ABLATIONS  # Patches our package: ours only.

            names += [ABLATED + name for name in ABLATIONS]
        for name in names:
            for kind, step in (("small", SMALL_STEP), ("large", STEP_ID)):
                if name == "async":
                    self.drivers[(name, kind)] = AsgiDriver(bot.build_async(step))
                elif name == "floor":
                    from .apps import floor_app  # Falcon 4: ours only.

                    self.apps[(name, kind)] = floor_app()
                else:
                    self.apps[(name, kind)] = bot.build(step)

    def batch(self, case: str, kind: str, start: int, count: int) -> dict[str, Any]:
        """Build, time and check one batch (see the module docstring)."""
        date = formatdate(time.time(), usegmt=True)
        batch = [(environ_of(body, date), body) for body in bodies(kind, start, count)]
        driver = self.drivers.get((case, kind))
        if driver is not None:
            work = driver.prepare(batch)
            wall, cpu = time.perf_counter(), time.process_time()
            raw = driver.serve(work)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            answers = driver.answers(raw)
        else:
            app, environs = self.apps[(case, kind)], []
            for environ, body in batch:
                environ["wsgi.input"] = io.BytesIO(body)
                environs.append(environ)
            with _ablation(case):
                wall, cpu = time.perf_counter(), time.process_time()
                answers = _serve_environs(app, environs)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        check(f"{case} on {kind}", answers)
        return {"cpu_us": cpu / count * 1e6, "wall_us": wall / count * 1e6,
                "hashes": [canonical_hash(body) for _, _, body in answers]}

    def close(self) -> None:
        for driver in self.drivers.values():
            driver.app.pipeline.shutdown()
            driver.close()
        for app in self.apps.values():
            pipeline = getattr(app, "pipeline", None)
            if pipeline is not None:
                pipeline.shutdown()


def _isolate_from_repository() -> None:
    """Put the repository after site-packages, so ``clustaar`` is the installed original."""
    for entry in ("", ROOT, os.getcwd()):
        while entry in sys.path:
            sys.path.remove(entry)
    sys.path.append(ROOT)


def versions(side: str) -> dict[str, Any]:
    """What this worker runs: Python, Falcon, ujson, and which ``clustaar.webhook``."""
    import falcon

    import clustaar.webhook as package

    found: dict[str, Any] = {"side": side, "python": sys.version.split()[0],
                             "falcon": falcon.__version__, "executable": sys.executable,
                             # The installed distribution's (the original's __version__
                             # may be read from our checkout's metadata, on its sys.path).
                             "clustaar.webhook": metadata.version("clustaar.webhook"),
                             "clustaar.webhook file": package.__file__}
    try:
        found["ujson"] = metadata.version("ujson")
    except metadata.PackageNotFoundError:
        found["ujson"] = None
    return found


def main(argv: list[str]) -> int:
    side = argv[0] if argv else "ours"
    ablations = "--no-ablations" not in argv
    if side == "original":
        _isolate_from_repository()
        # Falcon 3 warns, once, that the original builds a falcon.API: not news, not timed.
        warnings.filterwarnings("ignore", message="Call to deprecated")
        import clustaar.webhook as package

        if os.path.abspath(package.__file__ or "").startswith(os.path.join(ROOT, "clustaar")):
            raise SystemExit(f"the original's worker imported our package: {package.__file__}")
    worker = Worker(side, ablations)
    out = sys.stdout
    out.write(json.dumps({"ready": versions(side), "cases": sorted({
        name for name, _ in [*worker.apps, *worker.drivers]})}) + "\n")
    out.flush()
    for line in sys.stdin:
        order = json.loads(line)
        if order.get("quit"):
            break
        try:
            reply = worker.batch(order["case"], order["body"], order["start"], order["count"])
        except BaseException:
            reply = {"error": traceback.format_exc()}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    worker.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
