"""Step 7 (contract §2): the body loads through the schema, or a 400 names the failing field.

The answers go through the HTTP boundary (webtest on a ``Webhook``): they are what the
platform gets. Unit tests at the end cover the loader's paths v1 does not use. The
equivalence with the stock loader on v1 is in ``test_loading_equivalence.py``.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

import lupin
import pytest
from clustaar.schemas import models, processors, v1
from support.answers import assert_error
from support.logs import served
from support.models import assert_same
from support.requests import client

from benchmarks.bodies import large_notification
from clustaar.webhook import Webhook, events
from clustaar.webhook.loading import LoadError, NotificationLoader, compile_plan

pytestmark = pytest.mark.usefixtures("both_apps")

Edit = Callable[[dict[str, Any]], None]


def _app() -> tuple[Webhook, list[Any]]:
    seen: list[Any] = []

    def handler(request: Any, response: Any, notification: Any) -> dict[str, str]:
        seen.append(notification)
        return {"ok": "yes"}

    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, handler)
    return app, seen


def _post(vector: dict[str, Any], edit: Edit) -> Any:
    """POST the vector changed by ``edit``; the handler must not run if it is rejected."""
    data = copy.deepcopy(vector)
    edit(data)
    app, seen = _app()
    response = client(app).post("/", json.dumps(data).encode(), expect_errors=True)
    if response.status_int != 200:
        assert seen == []
    return response


def _delete(*path: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit


def _set(value: Any, *path: Any) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


REJECTED = [
    # What handlers rely on (contract §2, step 7).
    (_delete("data"), "data", "is required"),
    (_set("step", "data"), "data", "must be an object"),
    (_delete("data", "step"), "data.step", "is required"),
    (_delete("data", "step", "id"), "data.step.id", "is required"),
    (_set(1234, "data", "step", "id"), "data.step.id", "must be a string"),
    (_delete("data", "step", "actions"), "data.step.actions", "is required"),
    (_set({"type": "pause_bot_action"}, "data", "step", "actions"), "data.step.actions",
     "must be a list"),
    (_set("pause_bot_action", "data", "step", "actions"), "data.step.actions", "must be a list"),
    (_delete("data", "session"), "data.session", "is required"),
    (_set(None, "data", "session"), "data.session", "must be an object"),
    (_delete("data", "session", "values"), "data.session.values", "is required"),
    (_set([], "data", "session", "values"), "data.session.values", "must be an object"),
    (_delete("data", "interlocutor"), "data.interlocutor", "is required"),
    (_delete("data", "interlocutor", "id"), "data.interlocutor.id", "is required"),
    (_set(None, "data", "interlocutor", "id"), "data.interlocutor.id", "must be a string"),
    # What the schema cannot load.
    (_set([{"type": "no_such_action"}], "data", "step", "actions"),
     "data.step.actions.0.type", "is not a known type"),
    (_set([{"type": "pause_bot_action"}, {}], "data", "step", "actions"),
     "data.step.actions.1.type", "is not a known type"),
    (_set([{"type": ["send_text_action"]}], "data", "step", "actions"),
     "data.step.actions.0.type", "is not a known type"),
    (_set(["pause_bot_action"], "data", "step", "actions"), "data.step.actions.0",
     "must be an object"),
    (_set([None], "data", "step", "actions"), "data.step.actions.0", "must be an object"),
    (_set("no_such_event", "data", "type"), "data.type", "is not a known type"),
    (_delete("data", "type"), "data.type", "is not a known type"),
    # A processor failing: a number where sanitised text is expected.
    (_set(42, "data", "interlocutor", "firstName"), "data.interlocutor.firstName",
     "cannot be loaded"),
    (_set([{"type": "send_text_action", "alternatives": ["fine", 7]}], "data", "step", "actions"),
     "data.step.actions.0.alternatives.1", "cannot be loaded"),
    (_set({"type": "message", "text": {"html": "<b>"}, "attachments": []}, "data", "input"),
     "data.input.text", "cannot be loaded"),
    (_set([{"type": "send_image_action", "imageURL": 3}], "data", "step", "actions"),
     "data.step.actions.0.imageURL", "cannot be loaded"),  # strip() on a number
    # Stricter than the stock loader: an object or a list must be one (see loading.py).
    (_set([{"lat": 1, "long": 2}], "data", "interlocutor", "location"),
     "data.interlocutor.location", "must be an object"),
    (_set([{"type": "send_text_action", "alternatives": "hello"}], "data", "step", "actions"),
     "data.step.actions.0.alternatives", "must be a list"),
    # A list item of a schema with its own load() (CustomerSatisfactionChoiceSchema).
    (_set([{"type": "customer_satisfaction_action", "message": "?", "choices": [5]}],
          "data", "step", "actions"), "data.step.actions.0.choices.0", "must be an object"),
]


@pytest.mark.parametrize("edit, path, reason", REJECTED,
                         ids=[f"{path} {reason}" for _, path, reason in REJECTED])
def test_an_unloadable_notification_answers_400_naming_the_field(
        vector: dict[str, Any], edit: Edit, path: str, reason: str) -> None:
    response = _post(vector, edit)
    assert_error(response, 400, "Invalid notification", f'The field "{path}" {reason}.')


def test_required_fields_are_checked_before_the_schema_is_walked(vector: dict[str, Any]) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["data"]["type"] = "no_such_event"
        del data["data"]["interlocutor"]["id"]

    response = _post(vector, edit)
    assert_error(response, 400, "Invalid notification",
                 'The field "data.interlocutor.id" is required.')


def test_the_first_failing_field_of_an_object_is_named(vector: dict[str, Any]) -> None:
    """Fields are loaded in the schema's order (firstName comes before phoneNumber)."""
    def edit(data: dict[str, Any]) -> None:
        data["data"]["interlocutor"].update(phoneNumber=1, firstName=2)

    response = _post(vector, edit)
    assert_error(response, 400, "Invalid notification",
                 'The field "data.interlocutor.firstName" cannot be loaded.')


def test_a_null_object_or_list_loads_as_none(vector: dict[str, Any]) -> None:
    app, seen = _app()
    vector["data"]["interlocutor"]["location"] = None
    vector["data"]["input"] = None
    vector["data"]["step"]["actions"] = [{"type": "send_cards_action", "cards": None}]
    response = client(app).post("/", json.dumps(vector).encode())
    assert response.json == {"ok": "yes"}
    event = seen[0].event
    assert event.interlocutor.location is None and event.input is None
    assert event.step.actions[0].cards is None


def test_the_vector_reaches_the_handler_as_models(vector: dict[str, Any]) -> None:
    app, seen = _app()
    response = client(app).post("/", json.dumps(vector).encode())
    assert response.json == {"ok": "yes"}
    notification = seen[0]
    assert isinstance(notification, models.WebhookRequest)
    assert (notification.topic, notification.bot_id) == (vector["topic"], "4321")
    event = notification.event
    assert isinstance(event, models.StepReached)
    assert isinstance(event.step.actions[0], models.PauseBotAction)
    assert event.session.values == {"name": "tintin"}
    assert (event.interlocutor.location.lat, event.interlocutor.location.long) == (1.0, 2.4)
    assert event.interlocutor.first_name is None  # Absent fields get the field's default.


def test_sanitised_texts_reach_the_handler_cleaned(vector: dict[str, Any]) -> None:
    app, seen = _app()
    vector["data"]["interlocutor"]["firstName"] = "Zoë <script>x</script> & Co ＡＢ"
    vector["data"]["step"]["actions"] = [
        {"type": "send_text_action", "alternatives": ["<b>gras</b> <i onclick='x'>i</i>\r\n"]}]
    client(app).post("/", json.dumps(vector).encode())
    event = seen[0].event
    assert event.interlocutor.first_name == "Zoë &lt;script&gt;x&lt;/script&gt; & Co AB"
    assert event.step.actions[0].alternatives == ["<b>gras</b> <i>i</i>\n"]


def test_load_errors_carry_the_path_and_reason(vector: dict[str, Any]) -> None:
    vector["data"]["step"]["actions"] = [{"type": "wait_action"}, {"type": "nope"}]
    with pytest.raises(LoadError) as raised:
        NotificationLoader().load(vector)
    error = raised.value
    assert (error.path, error.reason) == ("data.step.actions.1.type", "is not a known type")
    assert str(error) == "data.step.actions.1.type: is not a known type"


# --- The loader's general paths: factories, fields and schema shapes v1 does not use. ---

def test_a_mapper_with_the_bind_factory_loads_as_that_mapper() -> None:
    bind_mapper = v1.get_mapper()  # lupin.bind: attributes set one by one, no __init__.
    body = large_notification(5)
    expected = bind_mapper.load(copy.deepcopy(body), v1.WEBHOOK_REQUEST)
    assert_same(NotificationLoader(bind_mapper).load(copy.deepcopy(body)), expected)


class Plain:
    """A class that is not a clustaar.schemas model."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


class Upper(lupin.fields.String):
    """A field with its own pre_load/load/post_load (none of v1's fields has them)."""

    def pre_load(self, value: Any) -> Any:
        return value.strip()

    def load(self, value: Any, mapper: Any) -> Any:
        return value.upper()

    def post_load(self, value: Any) -> Any:
        return f"[{value}]"


def test_other_fields_processors_and_a_recursive_schema() -> None:
    Node = models.model("Node", "name child children when pattern kind fixed tags")
    node = lupin.Schema({
        "name": lupin.fields.String(pre_load=[processors.html_sanitize, str.title],
                                    post_load=[lambda text: text * 2]),
        "when": lupin.fields.DateTime(),
        "pattern": v1.RegexpField(),
        "kind": Upper(),
        "fixed": lupin.fields.Constant("always"),
        "tags": lupin.fields.List(lupin.fields.String(post_load=[len]), pre_load=[sorted],
                                  post_load=[tuple]),
    }, name="node")
    node.add_field("child", lupin.fields.Object(node, pre_load=[lambda value: value or None]))
    node.add_field("children", lupin.fields.List(lupin.fields.Object(node)))
    plain = lupin.Schema({"node": lupin.fields.Object(node), "n": lupin.fields.Int()}, name="p")
    mapper = lupin.Mapper()
    mapper.register(Node, node, factory=lupin.constructor)
    mapper.register(Plain, plain, factory=lupin.constructor)
    data = {"n": 1, "node": {
        "name": "<b>zoé</b> & co", "when": "2026-11-28T12:00:00", "pattern": "^a+$",
        "kind": " x ", "fixed": "ignored", "tags": ["bb", "a"], "child": {}, "children": [
            {"name": "un", "child": {"name": "deux", "children": [None]}}]}}
    expected = mapper.load(copy.deepcopy(data), plain)
    ours = compile_plan(plain, mapper)(copy.deepcopy(data))
    assert_same(ours, expected)
    assert ours.node.name == "<B>Zoé</B> & Co<B>Zoé</B> & Co" and ours.node.tags == (1, 2)
    assert ours.node.children[0].child.children == [None]
    broken = copy.deepcopy(data)
    broken["node"]["children"][0]["child"]["when"] = "yesterday"
    with pytest.raises(ValueError):
        mapper.load(copy.deepcopy(broken), plain)
    with pytest.raises(LoadError, match=r"^node\.children\.0\.child\.when: cannot be loaded$"):
        compile_plan(plain, mapper)(broken)


def test_a_loader_bug_is_a_logged_500_not_the_clients_fault(
        vector: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Only the errors stock processors raise on bad values are 400s; a bug elsewhere (here
    the sanitiser failing with an error no processor raises on data) is ours."""
    from clustaar.webhook import sanitize

    def broken(text: str) -> str:
        raise RuntimeError("a bug")
    monkeypatch.setattr(sanitize, "_cached_clean", broken)
    app, seen = _app()
    body = copy.deepcopy(vector)
    body["data"]["step"]["actions"] = [{"type": "send_text_action", "alternatives": ["<b>"]}]
    with caplog.at_level("WARNING", logger="clustaar.webhook"):
        response = client(app).post("/", json.dumps(body), status=500)
    assert response.json["title"] == "Internal Server Error"
    assert seen == []
    [record] = served(caplog.records)
    assert record.levelname == "ERROR" and record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
