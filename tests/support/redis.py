"""A throwaway ``redis-server`` on 127.0.0.1 for the tests, stopped by its PID."""
from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from typing import Optional

from benchmarks.servers import free_port, serve


class NoRedis(RuntimeError):
    """``redis-server`` is not installed (``.ci/run`` installs Debian's)."""


@contextlib.contextmanager
def redis_server(port: Optional[int] = None) -> Iterator[int]:
    """A Redis with nothing saved to disk for the ``with`` block, on ``port`` or a free
    one; yields its port."""
    command = shutil.which("redis-server")
    if command is None:
        raise NoRedis("redis-server is not installed: apt-get install -y redis-server")
    port = port or free_port()
    with serve([command, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no"], port):
        yield port

