"""Fixtures shared by the test modules; the helpers they share are in ``support``.

Importing ``support`` also makes the repository's ``benchmarks`` package importable
(see ``support/__init__.py``) and the profiles below are loaded before any test
module is imported, so every ``@settings`` inherits from the chosen one.
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, settings
from support import DATA, KEY, NOW, PASSWORD, USER

from clustaar.webhook import Webhook

# Hypothesis profiles. "dev", the default, is a quick pass while editing; "ci" is the
# full run: enough examples for the HTTP fuzz tests to send more than 10,000 requests
# (test_fuzz_http.py checks that budget under "ci" only). Setting the CI environment
# variable selects "ci"; HYPOTHESIS_PROFILE=dev|ci chooses either, and wins over CI.
settings.register_profile("ci", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


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
