"""Helpers the test modules share; ``conftest.py`` holds only fixtures.

Test modules import this package as ``support``: pytest's default ("prepend")
import mode puts ``tests/`` on ``sys.path`` for ``conftest.py`` and the test
modules, whatever the working directory. The repository root is never put on
``sys.path``: the tree's ``clustaar`` would shadow the installed one, and tox tests
the installed sdist. The one package of the tree the tests need, ``benchmarks``,
is registered by :func:`import_benchmarks` (``conftest.py`` imports this package
first, so test modules may ``import benchmarks``).

* :mod:`support.requests` — signed, dated and authenticated requests, a webtest client;
* :mod:`support.answers` — the shape of an error answer;
* :mod:`support.wsgi` — a raw WSGI call, for what webtest refuses to send;
* :mod:`support.models` — loaded models compared all the way down;
* :mod:`support.threads` — work run in several threads at once;
* :mod:`support.servers` — the example bot behind a real server;
* :mod:`support.redis` — a throwaway ``redis-server`` for the deliveries tests;
* :mod:`support.logs` — log records without the apps' start-up records;
* :mod:`support.strategies` — hypothesis strategies for the HTTP fuzz tests.
"""
from __future__ import annotations

import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: Copies of the contract's vectors and user guide (exact bytes).
DATA = ROOT / "tests" / "data"

#: The fixed "now" of every test clock: 2026-11-28 12:00:00 UTC.
NOW = 1795867200.0
KEY = "test"
USER, PASSWORD = "bot", "pa:ss:word"


def import_benchmarks() -> None:
    """Make the repository's ``benchmarks`` package, and only it, importable."""
    if "benchmarks" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location("benchmarks", ROOT / "benchmarks" / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks"] = module
    spec.loader.exec_module(module)


import_benchmarks()
