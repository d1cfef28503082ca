"""Fixtures shared by the test modules; the helpers they share are in ``support``.

Importing ``support`` also makes the repository's ``benchmarks`` package importable
(see ``support/__init__.py``), and the hypothesis profile is loaded here, before any
test module is imported, so every ``@settings`` inherits from it.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from support import DATA, KEY, NOW, PASSWORD, USER, profiles
from support.asgi import BridgedAsyncWebhook
from support.redis import redis_server

from clustaar.webhook import Webhook

# Hypothesis: "dev" (50 examples a test) by default, "ci" (1,000, and the 10,000-request
# budget of test_fuzz_http.py) when CI is set; HYPOTHESIS_PROFILE=dev|ci picks one.
profiles.load()


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


@pytest.fixture(params=["Webhook", "AsyncWebhook"])
def both_apps(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type[Any]:
    """Run the test once on each app: on ``AsyncWebhook`` the module's ``Webhook`` is an
    ASGI app served to its WSGI clients as an ASGI server would (see support/asgi.py).

    A module opts in with ``pytestmark = pytest.mark.usefixtures("both_apps")``: its tests
    are then the proof that every clause holds on both apps, with the same assertions.
    """
    if request.param == "AsyncWebhook":
        monkeypatch.setattr(request.module, "Webhook", BridgedAsyncWebhook, raising=False)
    return getattr(request.module, "Webhook", Webhook)  # type: ignore[no-any-return]


@pytest.fixture
def secure_app(request: pytest.FixtureRequest, clock: Callable[[], float]) -> Any:
    """A webhook (of the module's app class) with every check on, and no route yet."""
    app_class = getattr(request.module, "Webhook", Webhook)
    return app_class(auth_username=USER, auth_password=PASSWORD, private_key=KEY, clock=clock)


@pytest.fixture(scope="session")
def redis_port() -> Iterator[int]:
    """A real Redis for the session (installed by ``.ci/run``); the tests needing it fail,
    never skip, when it cannot start."""
    try:
        with redis_server() as port:
            yield port
    except RuntimeError as error:
        pytest.fail(f"Redis cannot start: {error}")


@pytest.fixture
def redis_url(redis_port: int) -> Iterator[str]:
    """The session's Redis, its database emptied before the test."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_port, db=0)
    client.flushdb()
    client.close()
    yield f"redis://127.0.0.1:{redis_port}/0"
