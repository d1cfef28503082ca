"""Route registration with ``Webhook.on`` and route matching (contract §1, §2 step 6)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from support.requests import client
from webtest import TestApp

from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import JSONKeyEquals, JSONKeyExists, StepID

pytestmark = pytest.mark.usefixtures("both_apps")

STEP = events.CONVERSATION_STEP_REACHED
JSON = {"Content-Type": "application/json"}


def answering(name: str) -> Callable[[Any, Any, Any], dict[str, str]]:
    """A handler that answers ``{"handler": name}``."""
    def handler(request: Any, response: Any, notification: Any) -> dict[str, str]:
        return {"handler": name}
    handler.__name__ = name
    return handler


def notification(vector: dict[str, Any], step_id: str = "1234", topic: str = STEP) -> bytes:
    """The shipped vector with another step id or topic."""
    data = json.loads(json.dumps(vector))
    data["topic"] = topic
    data["data"]["step"]["id"] = step_id
    return json.dumps(data).encode()


def post(app: Webhook, body: bytes, status: int = 200) -> Any:
    """POST ``body`` to an app whose checks are off and return the parsed answer."""
    response = client(app).post("/", body, headers=JSON, status=status)
    return response.json


@pytest.fixture
def app() -> Webhook:
    return Webhook(request_max_age=None)


def step_ids(values: list[str]) -> Iterator[StepID]:
    return (StepID(value) for value in values)


@pytest.mark.parametrize("filters, matching, other", [
    (None, ["1234", "zzz"], []),
    (StepID("a"), ["a"], ["b"]),
    ([StepID(["a", "b"]), JSONKeyExists("data.step.id")], ["a", "b"], ["c"]),
    ((StepID(["a", "b"]), StepID(["b", "c"])), ["b"], ["a", "c"]),
    ([], ["x"], []),
])
def test_filters_none_one_list_tuple(app: Webhook, vector: dict[str, Any], filters: Any,
                                     matching: list[str], other: list[str]) -> None:
    app.on(STEP, answering("h"), filters)
    for step_id in matching:
        assert post(app, notification(vector, step_id)) == {"handler": "h"}
    for step_id in other:
        assert post(app, notification(vector, step_id), 404)["title"] == "No route"


def test_built_in_filters_on_a_real_request(app: Webhook, vector: dict[str, Any]) -> None:
    app.on(STEP, answering("h"), [StepID("a"), JSONKeyExists("data.interlocutor.location.lat"),
                                  JSONKeyEquals("data.step.actions.0.type", "pause_bot_action")])
    assert post(app, notification(vector, "a")) == {"handler": "h"}
    vector["data"]["step"]["actions"][0]["type"] = "go_to_action"
    post(app, notification(vector, "a"), 404)


def test_a_generator_of_filters_keeps_working_for_many_requests(
        app: Webhook, vector: dict[str, Any]) -> None:
    app.on(STEP, answering("h"), filters=step_ids(["a"]))
    app.on(STEP, answering("fallback"), filters=(check for check in [JSONKeyExists("topic")]))
    for _ in range(5):
        assert post(app, notification(vector, "a")) == {"handler": "h"}
        assert post(app, notification(vector, "b")) == {"handler": "fallback"}


def test_filter_alias(app: Webhook, vector: dict[str, Any]) -> None:
    app.on(STEP, answering("h"), filter=StepID("a"))
    assert post(app, notification(vector, "a")) == {"handler": "h"}
    post(app, notification(vector, "b"), 404)


def test_filter_alias_in_decorator_form(app: Webhook, vector: dict[str, Any]) -> None:
    @app.on(STEP, filter=[StepID("a")])
    def handler(request: Any, response: Any, notification: Any) -> dict[str, str]:
        return {"handler": "decorated"}

    assert post(app, notification(vector, "a")) == {"handler": "decorated"}
    post(app, notification(vector, "b"), 404)


def test_filters_and_filter_together_is_a_type_error(app: Webhook) -> None:
    with pytest.raises(TypeError):
        app.on(STEP, answering("h"), filters=StepID("a"), filter=StepID("b"))
    with pytest.raises(TypeError):
        app.on(STEP, answering("h"), StepID("a"), filter=StepID("b"))
    with pytest.raises(TypeError):
        app.on(STEP, filters=StepID("a"), filter=StepID("b"))
    with pytest.raises(TypeError):
        app.on(STEP, answering("h"), filtres=StepID("a"))
    assert len(app.router) == 0


def test_decorator_returns_the_function_unchanged_and_registers_it(
        app: Webhook, vector: dict[str, Any]) -> None:
    def handler(request: Any, response: Any, notification: Any) -> dict[str, str]:
        return {"handler": "decorated"}

    decorator = app.on(STEP, filters=StepID("a"))
    assert len(app.router) == 0  # nothing registered until the decorator is applied
    assert decorator(handler) is handler
    assert [route.handler for route in app.routes] == [handler]
    assert post(app, notification(vector, "a")) == {"handler": "decorated"}


def test_bare_decorator_without_filters(app: Webhook, vector: dict[str, Any]) -> None:
    @app.on(STEP)
    def handler(request: Any, response: Any, notification: Any) -> dict[str, str]:
        return {"handler": "bare"}

    assert callable(handler) and handler.__name__ == "handler"
    assert post(app, notification(vector)) == {"handler": "bare"}


def test_first_match_wins_in_registration_order(app: Webhook, vector: dict[str, Any]) -> None:
    app.on(STEP, answering("specific"), filters=StepID("a") & JSONKeyExists("data.session"))
    app.on(STEP, answering("by_step"), filters=StepID(["a", "b"]))
    app.on(STEP, answering("catch_all"))
    app.on(STEP, answering("never"), filters=StepID("c"))
    assert post(app, notification(vector, "a")) == {"handler": "specific"}
    assert post(app, notification(vector, "b")) == {"handler": "by_step"}
    assert post(app, notification(vector, "c")) == {"handler": "catch_all"}


def test_routes_of_one_topic_ignore_other_topics(app: Webhook, vector: dict[str, Any]) -> None:
    app.on("other.topic", answering("other"))
    app.on(STEP, answering("step"))
    assert post(app, notification(vector)) == {"handler": "step"}
    assert post(app, notification(vector, topic="other.topic")) == {"handler": "other"}
    post(app, notification(vector, topic="third.topic"), 404)


def test_filters_run_only_for_their_topic_and_stop_at_the_first_no(
        app: Webhook, vector: dict[str, Any]) -> None:
    calls: list[str] = []

    def record(name: str, result: bool) -> Callable[[Any], bool]:
        def check(request: Any) -> bool:
            calls.append(name)
            return result
        return check

    app.on("other.topic", answering("other"), filters=record("other", True))
    app.on(STEP, answering("first"), filters=[record("f1", False), record("f2", True)])
    app.on(STEP, answering("second"), filters=[record("s1", True), record("s2", True)])
    assert post(app, notification(vector)) == {"handler": "second"}
    assert calls == ["f1", "s1", "s2"]


def test_unknown_topic_is_404_json_and_does_not_grow_the_router(
        app: Webhook, vector: dict[str, Any]) -> None:
    app.on(STEP, answering("h"))
    tables_before = dict(app.router._tables)
    for index in range(20):
        response = client(app).post("/", notification(vector, topic=f"unknown.{index}"),
                                    headers=JSON, status=404)
        assert response.content_type == "application/json"
        assert response.json == {"title": "No route",
                                 "description": "No handler accepts this notification."}
    assert app.router._tables == tables_before
    assert list(app.router._tables) == [STEP]
    assert len(app.router) == 1


def test_no_route_at_all_is_404(app: Webhook, vector: dict[str, Any]) -> None:
    assert post(app, notification(vector), 404)["title"] == "No route"


@pytest.mark.parametrize("handler", [None, "handler", 42, [answering("h")]])
def test_non_callable_handler_is_a_type_error(app: Webhook, handler: Any) -> None:
    if handler is None:  # None means "decorator form": applying it to a non-callable fails
        with pytest.raises(TypeError):
            app.on(STEP)("not callable")
    else:
        with pytest.raises(TypeError):
            app.on(STEP, handler)
    assert len(app.router) == 0


@pytest.mark.parametrize("filters", ["data.step.id", 42, [StepID("a"), "x"], (None,),
                                     {"not": "callable"}])
def test_non_callable_filter_is_a_type_error(app: Webhook, filters: Any) -> None:
    with pytest.raises(TypeError):
        app.on(STEP, answering("h"), filters=filters)
    with pytest.raises(TypeError):
        app.on(STEP, answering("h"), filter=filters)
    assert len(app.router) == 0


def test_event_name_must_be_a_string(app: Webhook) -> None:
    with pytest.raises(TypeError):
        app.on(None, answering("h"))  # type: ignore[arg-type]
    assert len(app.router) == 0


def test_routes_lists_registrations_in_order(app: Webhook) -> None:
    first, second, third = answering("a"), answering("b"), answering("c")
    check = StepID("x")
    app.on(STEP, first, check)
    app.on("other", second)
    app.on(STEP, third, [check, check])
    assert [(route.topic, route.handler, route.filters) for route in app.routes] == [
        (STEP, first, (check,)), (STEP, third, (check, check)), ("other", second, ())]


def test_routes_added_after_serving_started_are_used(app: Webhook,
                                                     vector: dict[str, Any]) -> None:
    web = TestApp(app)
    web.post("/", notification(vector), headers=JSON, status=404)
    app.on(STEP, answering("late"))
    assert web.post("/", notification(vector), headers=JSON).json == {"handler": "late"}


def test_a_user_filter_that_raises_is_a_logged_500(app: Webhook, vector: dict[str, Any],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: Any) -> bool:
        raise KeyError("user bug")

    app.on(STEP, answering("h"), filters=broken)
    with caplog.at_level("ERROR", logger="clustaar.webhook"):
        answer = post(app, notification(vector), 500)
    assert answer["title"] == "Internal Server Error"
    assert "user bug" not in json.dumps(answer)
    assert [record.exc_info[0] for record in caplog.records
            if record.levelname == "ERROR" and record.exc_info] == [KeyError]


# --- Routes pinned to step ids are looked up by id, keeping registration order ---

def recording(calls: list[str], name: str, answer: bool = True) -> Callable[[Any], bool]:
    def check(request: Any) -> bool:
        calls.append(name)
        return answer
    return check


class CountingStepID(StepID):
    """A StepID filter that counts how often it is asked."""

    def __init__(self, step_id: Any) -> None:
        super().__init__(step_id)
        self.calls = 0

    def __call__(self, target: Any) -> bool:
        self.calls += 1
        return super().__call__(target)


def test_only_the_routes_of_the_request_step_run_their_filters(
        app: Webhook, vector: dict[str, Any]) -> None:
    calls: list[str] = []
    pins = [CountingStepID(f"s{index}") for index in range(50)]
    for index, pin in enumerate(pins):
        app.on(STEP, answering(f"h{index}"), filters=pin & recording(calls, f"f{index}"))
    assert post(app, notification(vector, step_id="s49")) == {"handler": "h49"}
    assert calls == ["f49"]
    # The other 49 routes were never asked: the cost does not grow with their number.
    assert [pin.calls for pin in pins[:49]] == [0] * 49


def test_pinned_and_unpinned_routes_keep_registration_order(
        app: Webhook, vector: dict[str, Any]) -> None:
    calls: list[str] = []
    app.on(STEP, answering("a-refused"), filters=[StepID("a"), recording(calls, "a0", False)])
    app.on(STEP, answering("any"), filters=recording(calls, "any"))
    app.on(STEP, answering("a-late"), filters=StepID("a"))
    assert post(app, notification(vector, step_id="a")) == {"handler": "any"}
    assert calls == ["a0", "any"]
    assert post(app, notification(vector, step_id="b")) == {"handler": "any"}

    first = Webhook(request_max_age=None)
    first.on(STEP, answering("a-first"), filters=StepID(["x", "a"]))
    first.on(STEP, answering("any"))
    assert post(first, notification(vector, step_id="a")) == {"handler": "a-first"}
    assert post(first, notification(vector, step_id="z")) == {"handler": "any"}


@pytest.mark.parametrize("pin", [
    StepID("a") | JSONKeyExists("data.channel"),
    ~StepID("a"),
    JSONKeyEquals("data.step.id", "a") | JSONKeyExists("data.channel"),
], ids=["or", "not", "or-equals"])
def test_a_step_id_that_does_not_pin_the_route_is_not_indexed(
        app: Webhook, vector: dict[str, Any], pin: Any) -> None:
    app.on(STEP, answering("loose"), filters=pin)
    assert post(app, notification(vector, step_id="b")) == {"handler": "loose"}


@pytest.mark.parametrize("step_id", [7, None, True, {"id": "a"}, ["a"]])
def test_odd_step_ids_in_requests_only_reach_unpinned_routes(
        app: Webhook, vector: dict[str, Any], step_id: Any) -> None:
    calls: list[str] = []
    app.on(STEP, answering("pinned"), filters=[StepID(["a", "7", "True"]), recording(calls, "p")])
    app.on(STEP, answering("unpinned"), filters=recording(calls, "u"))
    data = json.loads(notification(vector))
    data["data"]["step"]["id"] = step_id
    response = client(app).post("/", json.dumps(data).encode(), headers=JSON, status=400)
    # Routing runs before the schema step, which then refuses a non-string id.
    assert calls == ["u"]
    assert response.json["description"] == 'The field "data.step.id" must be a string.'


def test_a_filter_left_of_a_step_id_still_runs_first(app: Webhook, vector: dict[str, Any]) -> None:
    # Left to right: my_check runs before StepID rejects, as without the index.
    calls: list[str] = []
    app.on(STEP, answering("a"), filters=recording(calls, "left") & StepID("a"))
    app.on(STEP, answering("b"), filters=[recording(calls, "first"), StepID("a")])
    app.on(STEP, answering("any"))
    assert post(app, notification(vector, step_id="b")) == {"handler": "any"}
    assert calls == ["left", "first"]
