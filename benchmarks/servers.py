"""Start real WSGI servers on 127.0.0.1 for tests, and stop them by PID."""
from __future__ import annotations

import contextlib
import functools
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Optional

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BIN = pathlib.Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], output: IO[bytes],
                          timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"server exited early with status {process.returncode}:\n{tail}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout}s")


@contextlib.contextmanager
def serve(command: Sequence[str], port: int, env: Optional[Mapping[str, str]] = None,
          timeout: float = 20.0, output: Optional[IO[bytes]] = None
          ) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (a server listening on ``port``) for the ``with`` block.

    Its output goes to a temporary file (``output``, left open, if given), not a pipe:
    nobody reads a pipe while the server runs, and a full one would stall it.
    """
    full_env = {**os.environ, **(env or {})}
    kept = output is not None
    output = output if output is not None else tempfile.TemporaryFile()
    process = subprocess.Popen(list(command), env=full_env, cwd=ROOT,
                               stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(port, process, output, timeout)
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        if not kept:
            output.close()


@functools.cache
def _gunicorn_options() -> tuple[str, ...]:
    """gunicorn 27 opens a control socket under ~/.gunicorn unless told not to; older
    releases (Python 3.9 gets 23) have neither the socket nor the option."""
    usage = subprocess.run([str(BIN / "gunicorn"), "--help"], capture_output=True, text=True,
                           check=True).stdout
    return ("--no-control-socket",) if "--no-control-socket" in usage else ()


def gunicorn(port: int, app: str = "bot:app", *options: str) -> list[str]:
    """A gunicorn command serving the example bot on 127.0.0.1:``port``."""
    return [str(BIN / "gunicorn"), *_gunicorn_options(), "--bind", f"127.0.0.1:{port}",
            "--pythonpath", str(EXAMPLES), *options, app]


def uwsgi(port: int, module: Optional[str] = "bot:app", *options: str) -> list[str]:
    """A uwsgi command serving the example bot over HTTP on 127.0.0.1:``port``.

    The ``uwsgi`` command comes from the pyuwsgi wheel (nothing to compile). With
    ``module=None`` there is no ``--module``: give the apps with ``--mount`` options.
    """
    app = ["--module", module] if module is not None else []
    return [str(BIN / "uwsgi"), "--http", f"127.0.0.1:{port}", "--master",
            "--pythonpath", str(EXAMPLES), *app, "--die-on-term",
            "--disable-logging", *options]


def uvicorn(port: int, app: str = "async_bot:app", *options: str) -> list[str]:
    """A uvicorn command serving an example ASGI app on 127.0.0.1:``port``."""
    return [str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port),
            "--app-dir", str(EXAMPLES), "--no-access-log", *options, app]


def gunicorn_asgi(port: int, app: str = "async_bot:app", *options: str) -> list[str]:
    """gunicorn with uvicorn's worker class, serving an example ASGI app."""
    return gunicorn(port, app, "--worker-class", "uvicorn_worker.UvicornWorker", *options)
