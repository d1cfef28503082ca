"""Load test: the example bot under gunicorn, driven over real sockets on 127.0.0.1.

``python -m benchmarks.load --seconds N`` (``make soak`` runs 60 s) starts
``examples/bot.py`` under gunicorn with all three secrets set, then threads of
``http.client`` send a fixed mix of valid signed notifications and invalid
requests, each signed with a fresh ``Date``, until N seconds or ``--max-requests``
have passed. It prints requests/s, p50/p99 latency and counts by status, and
exits 1 if a valid request got anything but 200, an invalid one anything but a
4xx, any connection failed, or the server log holds a secret.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import pathlib
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Callable, Optional

from .servers import ROOT, free_port, gunicorn, serve

WELCOME_STEP = "5c1b7a0e1a2b3c4d5e6f7a80"  # examples/bot.py
USER = "platform"


@dataclass(frozen=True)
class Secrets:
    """A fresh key and password per run, handed to the bot through its environment."""

    key: str = field(default_factory=lambda: secrets.token_hex(16))
    password: str = field(default_factory=lambda: "pw:" + secrets.token_hex(8))

    @property
    def environ(self) -> dict[str, str]:
        return {"CLUSTAAR_WEBHOOK_PRIVATE_KEY": self.key, "CLUSTAAR_WEBHOOK_AUTH_USERNAME": USER,
                "CLUSTAAR_WEBHOOK_AUTH_PASSWORD": self.password}

    def authorization(self, password: Optional[str] = None) -> str:
        raw = f"{USER}:{self.password if password is None else password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


#: One request to send: method, body and headers.
Request = tuple[str, bytes, dict[str, str]]


def _body(step_id: str = WELCOME_STEP) -> bytes:
    document = json.loads((ROOT / "tests" / "data" / "step_reached_minimal.json").read_bytes())
    document["data"]["step"]["id"] = step_id
    return json.dumps(document).encode()


VALID_BODY, OTHER_STEP_BODY = _body(), _body("no-such-step")


def signed(keys: Secrets, body: bytes, date: Optional[str] = None, key: Optional[str] = None,
           password: Optional[str] = None) -> dict[str, str]:
    """The platform's headers for ``body``: a fresh Date, its signature, Basic credentials."""
    date = formatdate(time.time(), usegmt=True) if date is None else date
    message = b"date=" + date.encode("latin-1") + b"\n" + body
    digest = hmac.new((key or keys.key).encode(), message, hashlib.sha1).hexdigest()
    return {"Date": date, "X-Hub-Signature": f"sha1={digest}", "Content-Type": "application/json",
            "Authorization": keys.authorization(password)}


def _valid(keys: Secrets) -> Request:
    return "POST", VALID_BODY, signed(keys, VALID_BODY)


def _bad_signature(keys: Secrets) -> Request:
    return "POST", VALID_BODY, signed(keys, VALID_BODY, key="not-the-key")


def _stale(keys: Secrets) -> Request:
    return "POST", VALID_BODY, signed(keys, VALID_BODY, formatdate(time.time() - 60, usegmt=True))


def _wrong_password(keys: Secrets) -> Request:
    return "POST", VALID_BODY, signed(keys, VALID_BODY, password="guess")


def _malformed(keys: Secrets) -> Request:
    return "POST", VALID_BODY[:-7], signed(keys, VALID_BODY[:-7])


def _unrouted(keys: Secrets) -> Request:
    return "POST", OTHER_STEP_BODY, signed(keys, OTHER_STEP_BODY)


def _get(keys: Secrets) -> Request:
    return "GET", b"", {}


#: The mix, cycled in this order: 6 valid requests in 12, and each kind of rejection.
MIX: tuple[tuple[str, Callable[[Secrets], Request]], ...] = (
    ("valid", _valid), ("bad-signature", _bad_signature), ("valid", _valid), ("stale", _stale),
    ("valid", _valid), ("wrong-password", _wrong_password), ("valid", _valid),
    ("malformed", _malformed), ("valid", _valid), ("unrouted", _unrouted), ("valid", _valid),
    ("get", _get))


@dataclass
class Results:
    """What every request got; threads append under the lock."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, latency: float) -> None:
        expected = status == 200 if kind == "valid" else 400 <= status < 500
        with self.lock:
            self.latencies.append(latency)
            self.statuses[str(status)] += 1
            if not expected:
                self.unexpected[f"{kind}: {status}"] += 1

    def summary(self) -> dict[str, object]:
        count = len(self.latencies)
        percentiles = statistics.quantiles(self.latencies, n=100) if count > 1 else [0.0] * 99
        return {"requests": count, "seconds": round(self.elapsed, 2),
                "requests_per_second": round(count / self.elapsed, 1) if self.elapsed else 0.0,
                "p50_ms": round(percentiles[49] * 1000, 2),
                "p99_ms": round(percentiles[98] * 1000, 2),
                "statuses": dict(sorted(self.statuses.items())),
                "unexpected": dict(self.unexpected), "errors": dict(self.errors)}


def _send(port: int, request: Request) -> int:
    method, body, headers = request
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, "/", body, headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def drive(port: int, keys: Secrets, seconds: float, max_requests: int, threads: int) -> Results:
    """Send the mix from ``threads`` threads until ``seconds`` or ``max_requests`` are spent."""
    results = Results()
    tickets = iter(range(max_requests))  # Shared: next() on a range iterator is atomic.
    deadline = time.monotonic() + seconds

    def worker() -> None:
        for ticket in tickets:
            if time.monotonic() >= deadline:
                return
            kind, build = MIX[ticket % len(MIX)]
            request = build(keys)
            started = time.perf_counter()
            try:
                status = _send(port, request)
            except OSError as error:  # Refused, reset, timed out: all count against us.
                with results.lock:
                    results.errors[type(error).__name__] += 1
                continue
            results.record(kind, status, time.perf_counter() - started)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 30)  # Each request times out after 10 s.
    results.elapsed = time.monotonic() - started
    return results


def leaks(log: str, keys: Secrets) -> list[str]:
    """Which secrets (key, password, Authorization value) the server log shows."""
    named = {"private key": keys.key, "password": keys.password,
             "Authorization": keys.authorization().partition(" ")[2]}
    return [name for name, value in named.items() if value in log]


def verdict(summary: dict[str, object]) -> list[str]:
    """Reasons the run failed; empty when it passed."""
    reasons = [f"unexpected answers {summary['unexpected']}"] if summary["unexpected"] else []
    if summary["errors"]:
        reasons.append(f"connection errors {summary['errors']}")
    if summary.get("leaks"):
        reasons.append(f"secrets in the server log: {summary['leaks']}")
    if not summary["requests"]:
        reasons.append("no request was answered")
    return reasons


@dataclass
class Options:
    seconds: float = 10.0
    max_requests: int = 200_000
    threads: int = 4
    workers: int = 2


def run(options: Options) -> dict[str, object]:
    """Serve the bot, drive it, stop it; the summary includes the log check."""
    keys, port = Secrets(), free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log = pathlib.Path(scratch) / "gunicorn.log"
        # Worker output goes to a file: the bot logs a warning per rejection, and an
        # undrained pipe would fill up and stall the server.
        command = gunicorn(port, "bot:app", "--workers", str(options.workers),
                           "--capture-output", "--error-logfile", str(log))
        with serve(command, port, env=keys.environ):
            results = drive(port, keys, options.seconds, options.max_requests, options.threads)
        text = log.read_text(errors="replace")
    summary = results.summary()
    summary["rejection_warnings"] = text.count("rejected ")
    summary["leaks"] = leaks(text, keys)
    summary["failures"] = verdict(summary)
    return summary


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=Options.seconds)
    parser.add_argument("--max-requests", type=int, default=Options.max_requests)
    parser.add_argument("--threads", type=int, default=Options.threads, choices=range(1, 33))
    parser.add_argument("--workers", type=int, default=Options.workers, choices=range(1, 9))
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600 or args.max_requests < 1:
        parser.error("--seconds must be in (0, 3600] and --max-requests positive")
    summary = run(Options(args.seconds, args.max_requests, args.threads, args.workers))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for line in _lines(summary):
            print(line)
    return 1 if summary["failures"] else 0


def _lines(summary: dict[str, object]) -> Iterator[str]:
    yield (f"{summary['requests']} requests in {summary['seconds']} s: "
           f"{summary['requests_per_second']} requests/s, "
           f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms")
    yield f"statuses: {summary['statuses']}"
    yield f"rejection warnings logged: {summary['rejection_warnings']}"
    failures = summary["failures"]
    yield "FAIL: " + "; ".join(failures) if isinstance(failures, list) and failures else "PASS"


if __name__ == "__main__":
    sys.exit(main())
