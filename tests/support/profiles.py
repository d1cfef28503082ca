"""Hypothesis profiles: "dev", quick, while editing; "ci", the full run.

``conftest.py`` loads one before any test module is imported, so every ``@settings``
of a test inherits from it: "ci" when the ``CI`` environment variable is set, "dev"
otherwise; ``HYPOTHESIS_PROFILE=dev`` or ``=ci`` chooses either and wins over ``CI``
(``=mutation`` is the quick one derandomised, for ``tools/mutation.py``).
Under "ci" the HTTP fuzz tests send more than 10,000 requests (test_fuzz_http.py
checks that budget under "ci" only).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import HealthCheck, settings

FULL, QUICK = "ci", "dev"

settings.register_profile(FULL, max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(QUICK, max_examples=50, deadline=None)
#: For tools/mutation.py: as quick, and the same examples on every run, none kept.
settings.register_profile("mutation", settings.get_profile(QUICK), derandomize=True, database=None)


def chosen(environ: Mapping[str, str] = os.environ) -> str:
    """The profile a run with ``environ`` uses."""
    return environ.get("HYPOTHESIS_PROFILE") or (FULL if environ.get("CI") else QUICK)


def load(environ: Mapping[str, str] = os.environ) -> str:
    """Load the chosen profile; its name."""
    name = chosen(environ)
    settings.load_profile(name)
    return name


def full() -> bool:
    """Whether the running profile is the full one (also when given as --hypothesis-profile)."""
    return settings().max_examples >= settings.get_profile(FULL).max_examples
