"""Built-in filters (contract §1): key-path semantics, composition, reprs, no global side effects."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Callable

import pytest

from clustaar.webhook.filters import JSONKeyEquals, JSONKeyExists, JSONKeyIn, StepID

DOC: dict[str, Any] = {
    "topic": "conversation.step_reached",
    "data": {
        "step": {"id": "s1", "actions": [{"type": "pause_bot_action"}, {"type": "go_to_action"}]},
        "session": {"values": {"name": None, "flag": True, "count": 1, "zero": 0,
                               "tags": ["a"], "nested": {"k": "v"}, "text": "1"}},
        "channel": "web",
    },
}


def data_with(step_id: Any) -> dict[str, Any]:
    """A notification dict whose ``data.step.id`` is ``step_id``."""
    return {"data": {"step": {"id": step_id}}}


# --- JSONKeyEquals -----------------------------------------------------------


@pytest.mark.parametrize("path, value, expected", [
    ("data.step.id", "s1", True),
    ("data.step.id", "s2", False),
    ("data.channel", "web", True),
    ("topic", "conversation.step_reached", True),
    ("data.session.values.count", 1, True),
    ("data.session.values.count", 1.0, True),  # JSON has one number type
    ("data.session.values.text", 1, False),
    ("data.session.values.nested", {"k": "v"}, True),
    ("data.session.values.tags", ["a"], True),
])
def test_json_key_equals_values(path: str, value: Any, expected: bool) -> None:
    assert JSONKeyEquals(path, value)(DOC) is expected


def test_json_key_equals_none_matches_present_null_only() -> None:
    assert JSONKeyEquals("data.session.values.name", None)(DOC) is True
    assert JSONKeyEquals("data.session.values.absent", None)(DOC) is False
    assert JSONKeyEquals("data.nothing.at.all", None)(DOC) is False


def test_json_true_and_one_are_kept_apart() -> None:
    assert JSONKeyEquals("data.session.values.flag", True)(DOC) is True
    assert JSONKeyEquals("data.session.values.flag", 1)(DOC) is False
    assert JSONKeyEquals("data.session.values.count", True)(DOC) is False
    assert JSONKeyEquals("data.session.values.zero", False)(DOC) is False
    assert JSONKeyIn("data.session.values.flag", [1, 2])(DOC) is False
    assert JSONKeyIn("data.session.values.count", [True])(DOC) is False
    assert JSONKeyIn("data.session.values.zero", [False, None])(DOC) is False
    assert JSONKeyIn("data.session.values.flag", [True])(DOC) is True


def test_json_true_and_one_are_kept_apart_inside_objects_and_lists() -> None:
    doc = {"a": {"flag": True}, "b": [1, True]}
    assert JSONKeyEquals("a", {"flag": True})(doc) is True
    assert JSONKeyEquals("a", {"flag": 1})(doc) is False
    assert JSONKeyEquals("b", [1, True])(doc) is True
    assert JSONKeyEquals("b", [True, 1])(doc) is False
    assert JSONKeyEquals("b", [1, 1])(doc) is False


def test_intermediate_value_that_is_not_an_object_means_no_match() -> None:
    doc = {"a": "text", "b": 3, "c": None, "d": True}
    for key in "abcd":
        assert JSONKeyEquals(f"{key}.x", None)(doc) is False
        assert JSONKeyExists(f"{key}.x")(doc) is False
        assert JSONKeyIn(f"{key}.x", [None, 3, "t"])(doc) is False


def test_numeric_segment_indexes_a_list() -> None:
    assert JSONKeyEquals("data.step.actions.0.type", "pause_bot_action")(DOC) is True
    assert JSONKeyEquals("data.step.actions.1.type", "go_to_action")(DOC) is True
    assert JSONKeyExists("data.step.actions.1")(DOC) is True
    assert JSONKeyExists("data.step.actions.2")(DOC) is False  # out of range
    assert JSONKeyExists("data.step.actions.-1")(DOC) is False  # no negative indexing
    assert JSONKeyExists("data.step.actions.type")(DOC) is False
    assert JSONKeyIn("data.step.actions.5.type", ["pause_bot_action"])(DOC) is False


def test_numeric_segment_is_a_plain_key_in_an_object() -> None:
    assert JSONKeyEquals("a.0", "zero")({"a": {"0": "zero"}}) is True
    assert JSONKeyExists("a.1")({"a": {"0": "zero"}}) is False


def test_non_ascii_digit_segment_never_raises() -> None:
    # "²".isdigit() is true but int("²") fails: such a segment simply finds nothing.
    doc = {"a": ["x", "y", "z"]}
    assert JSONKeyExists("a.²")(doc) is False
    assert JSONKeyEquals("a.²", "z")(doc) is False


# --- JSONKeyIn ---------------------------------------------------------------


def test_json_key_in_membership() -> None:
    assert JSONKeyIn("data.step.id", ["s0", "s1"])(DOC) is True
    assert JSONKeyIn("data.step.id", ("s2", "s3"))(DOC) is False
    assert JSONKeyIn("data.step.id", {"s1"})(DOC) is True
    assert JSONKeyIn("data.step.id", (value for value in ["s1"]))(DOC) is True
    assert JSONKeyIn("data.session.values.name", [None])(DOC) is True
    assert JSONKeyIn("data.session.values.absent", [None])(DOC) is False


def test_json_key_in_a_container_value_is_false_and_never_raises() -> None:
    assert JSONKeyIn("data.session.values.nested", [{"k": "v"}, "x"])(DOC) is False
    assert JSONKeyIn("data.session.values.tags", [["a"], "a"])(DOC) is False
    assert JSONKeyIn("data.step", ["s1"])(DOC) is False


def test_json_key_in_with_unhashable_expected_values() -> None:
    assert JSONKeyIn("data.step.id", [["x"], "s1"])(DOC) is True
    assert JSONKeyIn("data.step.id", [["x"], {"y": 1}])(DOC) is False


# --- JSONKeyExists -----------------------------------------------------------


def test_json_key_exists() -> None:
    assert JSONKeyExists("data.session.values.name")(DOC) is True  # present null
    assert JSONKeyExists("data.session.values.zero")(DOC) is True
    assert JSONKeyExists("data.session")(DOC) is True
    assert JSONKeyExists("data.session.values.absent")(DOC) is False
    assert JSONKeyExists("nothing")(DOC) is False


@pytest.mark.parametrize("path", ["", None, 3, ["a"]])
def test_a_key_path_must_be_a_non_empty_string(path: Any) -> None:
    with pytest.raises(TypeError):
        JSONKeyExists(path)


# --- StepID ------------------------------------------------------------------


@pytest.mark.parametrize("ids", ["s1", ["s0", "s1"], ("s1",), {"s1", "s9"}, frozenset({"s1"})])
def test_step_id_accepts_an_id_or_a_collection_of_ids(ids: Any) -> None:
    assert StepID(ids)(data_with("s1")) is True
    assert StepID(ids)(data_with("s2")) is False
    assert StepID(ids)({"data": {"step": {}}}) is False
    assert StepID(ids)({"data": {"step": "s1"}}) is False


def test_step_id_string_is_one_id_never_a_set_of_characters() -> None:
    assert StepID("s1")(data_with("s")) is False
    assert StepID("s1")(data_with(["s1"])) is False


@pytest.mark.parametrize("bad", [5, None, {"a": 1}, 1.5, b"s1", object()])
def test_step_id_of_another_type_raises_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        StepID(bad)


# --- Requests and dicts ------------------------------------------------------


class FakeRequest:
    """Anything with a parsed ``json`` attribute, as the pipeline's requests have."""

    def __init__(self, data: Any) -> None:
        self.json = data


def test_filters_work_on_a_request_and_on_a_dict() -> None:
    for check in (JSONKeyEquals("data.step.id", "s1"), JSONKeyIn("data.step.id", ["s1"]),
                  StepID("s1"), StepID(["s1"])):
        assert check(DOC) is True
        assert check(FakeRequest(DOC)) is True
        assert check(FakeRequest(data_with("other"))) is False
    assert JSONKeyExists("data.step.id")(FakeRequest(data_with("other"))) is True
    assert JSONKeyExists("data.step.id")(FakeRequest({})) is False


@pytest.mark.parametrize("target", [None, "text", 3, [1, 2], FakeRequest(None),
                                    FakeRequest("x"), object()])
def test_filters_never_raise_on_odd_targets(target: Any) -> None:
    for check in (JSONKeyEquals("a.b", None), JSONKeyIn("a.0", [1]), JSONKeyExists("a"),
                  StepID("s1"), StepID(["s1"])):
        assert check(target) is False
    assert (~StepID("s1"))(target) is True


# --- Composition -------------------------------------------------------------


def recorder(name: str, result: Any, calls: list[str]) -> Callable[[Any], Any]:
    """A plain callable filter that records each call in ``calls``."""
    def check(target: Any) -> Any:
        calls.append(name)
        return result
    return check


def test_and_or_not_truth_tables() -> None:
    yes, no = StepID("s1"), StepID("s2")
    doc = data_with("s1")
    assert (yes & yes)(doc) is True
    assert (yes & no)(doc) is False
    assert (no & yes)(doc) is False
    assert (yes | no)(doc) is True
    assert (no | yes)(doc) is True
    assert (no | no)(doc) is False
    assert (~no)(doc) is True
    assert (~yes)(doc) is False
    assert (~~yes)(doc) is True
    assert ((no | yes) & ~no)(doc) is True


def test_composition_with_plain_callables_on_either_side() -> None:
    doc = data_with("s1")
    calls: list[str] = []
    truthy = recorder("truthy", "non-empty", calls)
    falsy = recorder("falsy", [], calls)
    assert (StepID("s1") & truthy)(doc) is True
    assert (truthy & StepID("s1"))(doc) is True
    assert (falsy | StepID("s1"))(doc) is True
    assert (StepID("s2") | falsy)(doc) is False
    assert (falsy & StepID("s1"))(doc) is False
    assert calls == ["truthy", "truthy", "falsy", "falsy", "falsy"]


def test_composition_evaluates_left_to_right_and_short_circuits() -> None:
    calls: list[str] = []
    first_false = recorder("a", False, calls)
    first_true = recorder("a", True, calls)
    second = recorder("b", True, calls)

    assert (first_false & StepID("s1") & second)(DOC) is False
    assert calls == ["a"]
    calls.clear()
    assert (first_true | StepID("zz") | second)(DOC) is True
    assert calls == ["a"]
    calls.clear()
    assert ((StepID("zz") | first_true) & second)(DOC) is True
    assert calls == ["a", "b"]
    calls.clear()
    assert (StepID("zz") & first_true)(DOC) is False
    assert calls == []
    calls.clear()
    assert (StepID("s1") | first_true)(DOC) is True
    assert calls == []


def test_composing_with_a_non_callable_is_a_type_error() -> None:
    for other in (5, "s1", None, True):
        with pytest.raises(TypeError):
            StepID("s1") & other  # type: ignore[operator]
        with pytest.raises(TypeError):
            other | StepID("s1")  # type: ignore[operator]
        with pytest.raises(TypeError):
            other & StepID("s1")  # type: ignore[operator]


def has_name(request: Any) -> bool:
    """A user-written filter."""
    return True


class Always:
    """A callable object without ``__qualname__`` on the instance."""

    def __call__(self, request: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return "Always()"


def test_reprs_are_readable() -> None:
    assert repr(JSONKeyEquals("data.step.id", "x")) == "JSONKeyEquals('data.step.id', 'x')"
    assert repr(JSONKeyEquals("a.b", None)) == "JSONKeyEquals('a.b', None)"
    assert repr(JSONKeyIn("a.b", (1, 2))) == "JSONKeyIn('a.b', [1, 2])"
    assert repr(JSONKeyExists("a")) == "JSONKeyExists('a')"
    assert repr(StepID("s1")) == "StepID('s1')"
    assert repr(StepID(["s1", "s2"])) == "StepID(['s1', 's2'])"
    assert repr(StepID(("s1",))) == "StepID(('s1',))"
    assert repr(StepID("a") & has_name) == "(StepID('a') & has_name)"
    assert repr(has_name | StepID("a")) == "(has_name | StepID('a'))"
    assert repr(~StepID("a")) == "~StepID('a')"
    assert repr(StepID("a") & ~JSONKeyExists("b") | Always()) == (
        "((StepID('a') & ~JSONKeyExists('b')) | Always())")


def test_filters_change_no_global_state() -> None:
    # In a fresh interpreter, snapshot Falcon's and the stdlib's classes, then
    # import, build, compose and run every filter and compare.
    script = """
import json, falcon
def snapshot():
    return {cls.__name__: sorted(vars(cls)) for cls in
            (falcon.Request, falcon.Response, dict, list, falcon.App)}
before = snapshot()
from clustaar.webhook import Webhook, events
from clustaar.webhook.filters import JSONKeyEquals, JSONKeyIn, JSONKeyExists, StepID
checks = (StepID("a") & JSONKeyIn("b", [1]) | ~JSONKeyExists("c")) & JSONKeyEquals("d", 2)
checks({"a": 1})
app = Webhook()
app.on(events.CONVERSATION_STEP_REACHED, lambda *a: None, filters=checks)
print(json.dumps(before == snapshot()))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=True)
    assert json.loads(result.stdout) is True
    assert not hasattr(__import__("falcon").Request, "json")
    assert not hasattr(__import__("falcon").Request, "body")


@pytest.mark.parametrize("values", ["abc", b"abc"])
def test_json_key_in_refuses_a_string_of_values(values: Any) -> None:
    # JSONKeyIn("x", "abc") would silently mean {"a", "b", "c"}: a typo, caught early.
    with pytest.raises(TypeError, match="collection of values"):
        JSONKeyIn("user.id", values)
