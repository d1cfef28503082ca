"""Fixtures shared by the test modules; the helpers they share are in ``support``.

Importing ``support`` also makes the repository's ``benchmarks`` package importable
(see ``support/__init__.py``), and the hypothesis profile is loaded here, before any
test module is imported, so every ``@settings`` inherits from it.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from support import DATA, KEY, NOW, PASSWORD, USER, profiles

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


@pytest.fixture
def secure_app(clock: Callable[[], float]) -> Webhook:
    """A webhook with every check on, and no route yet."""
    return Webhook(auth_username=USER, auth_password=PASSWORD, private_key=KEY, clock=clock)
