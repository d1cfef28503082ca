"""``python -m benchmarks.deliveries``: the added cost per request of each deliveries store.

The same ``Webhook`` (the benchmark handler, no checks) without a store, then with
``memory://``, SQLite (a temporary file) and Redis (a ``redis-server`` started here when
installed), called straight through WSGI. Rounds rotate the order of the backends, so all
share the machine's conditions. Two kinds of requests: a first delivery (a new body each
time: claim, handler, answer kept) and a duplicate (the kept answer replayed). Prints the
median wall-clock µs per request and the ratio to the no-store case (``--json``: as JSON).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional

from clustaar.webhook import Webhook, events

from . import apps
from .bodies import SMALL_VECTOR
from .servers import free_port, serve


def _environ(body: bytes) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False}


def _app(deliveries: Optional[str]) -> Webhook:
    app = Webhook(request_max_age=None, deliveries=deliveries)
    app.on(events.CONVERSATION_STEP_REACHED, apps.handler)
    return app


def _body(number: int) -> bytes:
    document = json.loads(SMALL_VECTOR)
    document["data"]["session"]["values"]["n"] = number
    return json.dumps(document).encode()


def _batch(app: Webhook, bodies: list[bytes]) -> float:
    """Wall-clock µs per request over ``bodies``; every answer must be a 200."""
    statuses: list[str] = []
    started = time.perf_counter()
    for body in bodies:
        b"".join(app(_environ(body), lambda status, headers, *_: statuses.append(status)))
    elapsed = time.perf_counter() - started
    if any(not status.startswith("200") for status in statuses):
        raise RuntimeError(f"a request was not answered 200: {set(statuses)}")
    return elapsed / len(bodies) * 1e6


@contextlib.contextmanager
def backends() -> Iterator[dict[str, Optional[str]]]:
    """The store URLs measured; Redis only when ``redis-server`` is installed."""
    with tempfile.TemporaryDirectory() as folder:
        urls: dict[str, Optional[str]] = {"none": None, "memory": "memory://",
                                          "sqlite": f"sqlite:///{folder}/deliveries.db"}
        command = shutil.which("redis-server")
        if command is None:
            yield urls
            return
        port = free_port()
        with serve([command, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no"], port):
            yield {**urls, "redis": f"redis://127.0.0.1:{port}/0"}


def measure(urls: dict[str, Optional[str]], rounds: int, batch: int) -> list[dict[str, Any]]:
    """One interleaved run: medians per backend, first deliveries and duplicates."""
    built = {name: _app(url) for name, url in urls.items()}
    names = list(built)
    firsts: dict[str, list[float]] = {name: [] for name in names}
    duplicates: dict[str, list[float]] = {name: [] for name in names}
    counter = 0
    for number in range(rounds):
        order = names[number % len(names):] + names[:number % len(names)]
        for name in order:
            bodies = [_body(counter + n) for n in range(batch)]
            counter += batch
            firsts[name].append(_batch(built[name], bodies))
            duplicates[name].append(_batch(built[name], bodies))
    median: Callable[[list[float]], float] = statistics.median
    base_first, base_duplicate = median(firsts["none"]), median(duplicates["none"])
    return [{"store": name,
             "first_us": round(median(firsts[name]), 1),
             "first_added_us": round(median(firsts[name]) - base_first, 1),
             "first_x": round(median(firsts[name]) / base_first, 2),
             "duplicate_us": round(median(duplicates[name]), 1),
             "duplicate_x": round(median(duplicates[name]) / base_duplicate, 2)}
            for name in names]


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.deliveries")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)
    with backends() as urls:
        rows = measure(urls, options.rounds, options.batch)
    if options.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'store':<8} {'first µs':>9} {'added µs':>9} {'× none':>7} "
          f"{'duplicate µs':>13} {'× none':>7}")
    for row in rows:
        print(f"{row['store']:<8} {row['first_us']:>9} {row['first_added_us']:>9} "
              f"{row['first_x']:>7} {row['duplicate_us']:>13} {row['duplicate_x']:>7}")


if __name__ == "__main__":
    main()
