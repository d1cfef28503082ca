"""The README's Python examples run as written, and the app they build answers."""
from __future__ import annotations

import contextlib
import io
import json
import pathlib
import re
from email.utils import formatdate
from types import SimpleNamespace
from typing import Any

import pytest
from support import DATA
from webtest import TestApp

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


@pytest.fixture(autouse=True)
def example_bot_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The testing section imports the example bot, as its test file does."""
    monkeypatch.syspath_prepend(str(ROOT / "examples"))


def run_all() -> tuple[dict[str, Any], str]:
    """Run every block in order in one namespace, as a reader would paste them."""
    namespace: dict[str, Any] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in BLOCKS:
            exec(compile(block, str(README), "exec"), namespace)
    return namespace, out.getvalue()


def test_readme_has_the_guide_sections_examples() -> None:
    assert len(BLOCKS) >= 8


def test_every_block_runs_and_prints_what_it_says() -> None:
    _, printed = run_all()
    expected = re.search(r"print\(known_visitor\)  # (.*)", README.read_text()).group(1)  # type: ignore[union-attr]
    assert printed.strip() == expected


def test_the_return_actions_example_counts_visits() -> None:
    namespace: dict[str, Any] = {}
    block = next(b for b in BLOCKS if "visits" in b)
    exec(block, namespace)
    body = json.loads((DATA / "step_reached_minimal.json").read_bytes())
    body["data"]["session"]["values"]["visits"] = 2
    # The app keeps the default replay window and the real clock: send a fresh Date.
    answer = TestApp(namespace["app"]).post_json("/", body, headers={"Date": formatdate(usegmt=True)})
    assert answer.json["actions"][0]["alternatives"][0] == "Visit number 3"
    assert answer.json["session"]["values"]["visits"] == 3


def test_filters_example_composition_routes() -> None:
    namespace, _ = run_all()
    known_visitor = namespace["known_visitor"]
    request = SimpleNamespace(json={"data": {"step": {"id": "507f191e810c19729de860ea"},
                             "interlocutor": {"isLogged": False},
                             "session": {"values": {"name": "Ada"}}}})
    assert known_visitor(request)
    del request.json["data"]["session"]["values"]["name"]
    assert not known_visitor(request)
    request.json["data"]["interlocutor"]["isLogged"] = True
    assert known_visitor(request)


def test_the_testing_section_handler_test_passes() -> None:
    namespace, _ = run_all()
    namespace["test_welcome_greets_by_first_name"]()
