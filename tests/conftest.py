"""Shared fixtures: the shipped vector, a fixed clock and signed-request helpers."""
from __future__ import annotations

import base64
import importlib.util
import json
import pathlib
import sys
import threading
from email.utils import formatdate
from typing import Any, Callable, Optional

import pytest
from webtest import TestApp

from clustaar.webhook import Webhook
from clustaar.webhook.signature import digest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _import_benchmarks() -> None:
    """Make the repository's ``benchmarks`` package importable by the tests.

    Only that package: putting the repository root on ``sys.path`` would let the
    tree's ``clustaar`` shadow the installed one, and tox tests the installed sdist.
    """
    if "benchmarks" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("benchmarks", ROOT / "benchmarks" / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks"] = module
    spec.loader.exec_module(module)


_import_benchmarks()

#: Copies of the shared contract's vectors and user guide (exact bytes).
DATA = pathlib.Path(__file__).resolve().parent / "data"

#: The fixed "now" of every test clock: 2026-11-28 12:00:00 UTC.
NOW = 1795867200.0
KEY = "test"
USER, PASSWORD = "bot", "pa:ss:word"


def http_date(timestamp: float = NOW) -> str:
    """An IMF-fixdate for ``timestamp``."""
    return formatdate(timestamp, usegmt=True)


def basic(user: str = USER, password: str = PASSWORD) -> str:
    """An ``Authorization`` value for Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def signed_headers(body: bytes, key: str = KEY, date: Optional[str] = None,
                   algorithm: str = "sha1", auth: Optional[str] = None) -> dict[str, str]:
    """Headers of a platform request: Date, its signature and optional Authorization."""
    date = http_date() if date is None else date
    headers = {"Date": date, "X-Hub-Signature": f"{algorithm}={digest(key, body, date, algorithm)}",
               "Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    return headers


@pytest.fixture
def vector_bytes() -> bytes:
    """The exact bytes of the shipped step_reached notification."""
    return (DATA / "step_reached_minimal.json").read_bytes()


@pytest.fixture
def vector(vector_bytes: bytes) -> dict[str, Any]:
    return json.loads(vector_bytes)  # type: ignore[no-any-return]


@pytest.fixture
def clock() -> Callable[[], float]:
    return lambda: NOW


@pytest.fixture
def secure_app(clock: Callable[[], float]) -> Webhook:
    """A webhook with every check on, and no route yet."""
    return Webhook(auth_username=USER, auth_password=PASSWORD, private_key=KEY, clock=clock)


def client(app: Webhook, **extra_environ: str) -> TestApp:
    """A webtest client for ``app``."""
    return TestApp(app, extra_environ=extra_environ)


# Hypothesis: the "ci" profile (the default, and forced when CI is set) runs
# enough examples for the HTTP fuzz tests to send over 10,000 requests per run;
# "dev" is a quick pass while editing (HYPOTHESIS_PROFILE=dev).
import os  # noqa: E402  (appended block: kept apart from the fixtures above)

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def spy_compare_digest(monkeypatch: pytest.MonkeyPatch, module: Any,
                       verdict: bool) -> list[tuple[Any, Any]]:
    """Replace ``hmac.compare_digest`` as ``module`` sees it; record calls, answer ``verdict``."""
    calls: list[tuple[Any, Any]] = []

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return verdict

    monkeypatch.setattr(module.hmac, "compare_digest", spy)
    return calls


def in_threads(work: Callable[[int], None], count: int = 4, timeout: float = 60) -> None:
    """Run ``work(0)`` to ``work(count - 1)`` in as many threads at once; raise the first error."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(number: int) -> None:
        try:
            start.wait(timeout)
            work(number)
        except BaseException as error:  # Raised below, never lost in the thread.
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
