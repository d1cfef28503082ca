"""The cache of loaded steps: every notification of a step gets fresh models equal to the
stock loader's, whatever earlier handlers did to theirs, and the markup budget decides
alike with or without it."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from support.models import assert_same, check, stock_load
from support.requests import client

from benchmarks.bodies import every_sanitised_field, large_notification
from benchmarks.varied import varied_notification
from clustaar.webhook import Webhook, events, sanitize, stepcache
from clustaar.webhook.loading import LoadError, NotificationLoader
from clustaar.webhook.stepcache import StepCache, clone, copier

pytestmark = pytest.mark.usefixtures("both_apps")


def _vandal_app() -> tuple[Webhook, list[Any]]:
    """A webhook whose handler keeps its notification, then wrecks the step's models."""
    seen: list[Any] = []

    def handler(request: Any, response: Any, notification: Any) -> dict[str, bool]:
        seen.append(copy.deepcopy(notification))
        step = notification.event.step
        step.name = "changed"
        step.actions[0].alternatives.append("added")
        step.actions[1].buttons[0].action.session_values["k"] = "v"
        del step.actions[2:]
        return {"ok": True}

    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, handler)
    return app, seen


def test_handlers_never_see_what_an_earlier_handler_did_to_its_step() -> None:
    app, seen = _vandal_app()
    bodies = [large_notification(index) for index in range(3)]
    for body in bodies:
        client(app).post_json("/", body)
    for loaded, body in zip(seen, bodies):
        assert_same(loaded, stock_load(copy.deepcopy(body)))


def test_every_user_of_one_step_gets_the_stock_models() -> None:
    loader = NotificationLoader()  # One cache for all of them: the later ones are hits.
    for index in range(40):
        check(varied_notification(index), loader)
    for index in range(3):  # Steps that loading edits, and every sanitised field.
        check(every_sanitised_field(index), loader)


def _refusal(loader: NotificationLoader, data: dict[str, Any]) -> Any:
    try:
        loader.load(copy.deepcopy(data))
    except LoadError as error:
        return error.path, error.reason
    return None


def test_the_budget_decides_alike_with_a_warm_cache() -> None:
    # A step that costs about half the budget, and users whose own markup makes the total
    # pass it or not: a warm cache must accept and refuse exactly as a cold one, naming
    # the same field.
    step_text = "<b>" + "x" * (sanitize.NOTIFICATION_BUDGET // 2) + "</b>"
    warm, refusals = NotificationLoader(), []
    for length in (0, 1_000, 2_000, 3_000, 4_000, 6_000, 1_000, 0):
        data = large_notification(length)
        data["data"]["step"]["actions"][0]["alternatives"] = [step_text]
        data["data"]["interlocutor"]["lastName"] = "&" + "a" * length
        data["data"]["input"]["text"] = "<i>" + "b" * length
        cold = _refusal(NotificationLoader(), data)
        assert _refusal(warm, data) == cold
        refusals.append(cold)
    assert refusals[0] is None and refusals[-1] is None
    assert refusals[-3][1] == "has too much markup to sanitise"


def test_a_step_that_loading_edits_is_loaded_every_time() -> None:
    def editing(data: dict[str, Any]) -> str:
        data["seen"] = True
        return "loaded"

    cache = StepCache(editing)
    sanitize.open_budget()
    try:
        assert [cache({"id": "a"}) for _ in range(2)] == ["loaded", "loaded"]
    finally:
        sanitize.close_budget()
    assert len(cache) == 0


def test_the_cache_keeps_at_most_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stepcache, "CACHE_SIZE", 3)
    calls: list[str] = []
    cache = StepCache(lambda data: calls.append(data["id"]) or [data["id"]])
    sanitize.open_budget()
    try:
        for step in "abcdeab":
            assert cache({"id": step}) == [step]
    finally:
        sanitize.close_budget()
    assert len(cache) == 3
    assert calls == list("abcdeab")  # a and b were the oldest when they came back.


def test_documents_the_encoder_cannot_key_are_loaded_every_time() -> None:
    calls: list[Any] = []
    cache = StepCache(lambda data: calls.append(data) or "loaded")
    sanitize.open_budget()
    try:
        for data in ({"id": "\ud800"}, {"id": "a" * stepcache.MAX_KEY_BYTES}, ["a list"]):
            cache(data)
            cache(data)
    finally:
        sanitize.close_budget()
    assert len(calls) == 6 and len(cache) == 0


@pytest.mark.parametrize("copy_of", [clone, lambda value: copier(value)()],
                         ids=["clone", "copier"])
def test_a_copy_shares_no_mutable_part(copy_of: Any) -> None:
    loaded = NotificationLoader().load(json.loads(json.dumps(every_sanitised_field(1))))
    copied = copy_of(loaded)
    assert_same(copied, loaded)

    def containers(value: Any) -> list[Any]:
        found = [value] if isinstance(value, (list, dict)) or hasattr(value, "__dict__") else []
        children = (value.values() if isinstance(value, dict) else value
                    if isinstance(value, list) else vars(value).values()
                    if hasattr(value, "__dict__") and not isinstance(value, type) else ())
        return found + [part for child in children for part in containers(child)]

    theirs = {id(part) for part in containers(loaded)}
    assert not any(id(part) in theirs for part in containers(copied)
                   if not hasattr(part, "pattern"))  # Compiled patterns are immutable.


def test_a_copier_of_very_deep_models_walks_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stepcache, "MAX_NESTING", 3)
    loaded = NotificationLoader().load(large_notification(1))
    build = copier(loaded)
    first, second = build(), build()
    assert_same(first, loaded)
    assert_same(second, loaded)
    assert first.event.step.actions is not second.event.step.actions


def test_a_copier_copies_the_models_as_they_were() -> None:
    loaded = NotificationLoader().load(large_notification(2))
    build = copier(loaded)
    expected = clone(loaded)
    loaded.event.step.actions.clear()  # The cache's copy is never handed out: still,
    assert_same(build(), expected)     # later changes do not reach the copies.
