"""The compiled dumper gives exactly what ``MAPPER.dump`` gives, fails as it fails, and
changes nothing in the mapper; the renderer writes the bytes the stock encoder writes.

Where the stock dump would change its mapper (a subclass registered, an unknown type
recorded), the reference is a mapper of its own, built as ``MAPPER`` is.
"""
from __future__ import annotations

import abc
import copy
import datetime
import json
from typing import Any, Callable

import lupin
import lupin.schema
import pytest
from clustaar.schemas import models, v1
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lupin import fields as f
from lupin.errors import MissingMapping, SchemaNotRegistered
from support.requests import client
from support.threads import in_threads

from benchmarks.bodies import SMALL_VECTOR, every_sanitised_field, large_notification
from clustaar.webhook import Webhook, dumping, events
from clustaar.webhook.dumping import Dumper
from clustaar.webhook.loading import MAPPER, NotificationLoader

DUMPER = Dumper()
TARGET = {"type": "step", "id": "5c1b7a0e1a2b3c4d5e6f7a81", "name": "Suite"}
FLOW = {"type": "flow_connection", "target": TARGET, "predicates": [
    {"type": "connection_team_predicate", "condition": {"type": "is_online"}},
    {"type": "connection_user_predicate", "condition": {"type": "is_not_logged"}}]}
CHOICE = {"type": "choice", "title": "Un <b>choix</b>", "imageUrl": None, "sessionValues": {"a": 1}}
#: The action kinds the benchmark bodies lack, as the platform sends them.
MORE_ACTIONS = [
    {"type": "close_intercom_conversation_action"},
    {"type": "assign_intercom_conversation_action", "assigneeID": " 123 "},
    {"type": "google_custom_search_action", "query": "chaussures été", "customEngineID": " e1 ",
     "limit": 3},
    {"type": "transfer_iadvize_conversation_action", "failed_transfer_message": "Désolé & co",
     "distribution_rule": {"label": "Support", "id": "r1"}},
    {"type": "close_iadvize_conversation_action"},
    {"type": "ask_document_action", "message": "Votre facture ?", "documents": [
        {"type": "asked_document", "message": "En PDF", "name": "facture",
         "authorizedFileTypes": ["application/pdf", "image/png"]}]},
    CHOICE,
    {"type": "section", "title": None,
     "choices": [CHOICE, dict(CHOICE, imageUrl=" https://x.fr ")]},
    {"type": "send_ai_task_action", "engine": {"type": "ai_task_engine", "name": "llm", "opts": {}},
     "behaviors": [{"type": "ai_task_behavior", "name": "tri", "connections": [FLOW]}],
     "defaultTarget": None, "selectTarget": TARGET, "userAttributes": True},
]


def all_actions() -> list[dict[str, Any]]:
    """One or more actions of every kind ``ACTION_SCHEMAS`` knows, as JSON."""
    return every_sanitised_field(5)["data"]["step"]["actions"] + copy.deepcopy(MORE_ACTIONS)


def load_action(data: dict[str, Any]) -> Any:
    # The stock loader may edit its input (CustomerSatisfactionChoiceSchema does).
    return MAPPER.load(copy.deepcopy(data), v1.ACTION_SCHEMAS[data["type"]])


def outcome(dump: Callable[[Any], Any], value: Any) -> Any:
    """What ``dump(value)`` gives, or the type and message of what it raises."""
    try:
        return "result", dump(value)
    except Exception as error:
        return "error", type(error), str(error)


def assert_same(ours: Any, stock: Any) -> None:
    """Equal, with the same types and the same key order, all the way down."""
    assert type(ours) is type(stock)
    if isinstance(stock, dict):
        assert list(ours) == list(stock)
        for key in stock:
            assert_same(ours[key], stock[key])
    elif isinstance(stock, (list, tuple)):
        assert len(ours) == len(stock)
        for left, right in zip(ours, stock):
            assert_same(left, right)
    else:
        assert ours == stock


def check(value: Any, stock: lupin.Mapper = MAPPER) -> None:
    """Our dumper on ``MAPPER`` against ``stock.dump`` (a mapper built as ``MAPPER`` is)."""
    assert_same(outcome(DUMPER.dump, value), outcome(stock.dump, value))


def fresh() -> lupin.Mapper:
    return v1.get_mapper(factory=lupin.constructor)


def response(actions: Any = None, session: Any = None) -> Any:
    """What a handler returns."""
    return models.StepReachedResponse(actions=actions, session=session, interlocutor=None)


def test_every_action_schema_is_covered_and_dumped_as_stock() -> None:
    actions, failing = all_actions(), set()
    assert {action["type"] for action in actions} == set(v1.ACTION_SCHEMAS)
    for data in actions:
        action = load_action(data)
        check(action)
        check(response([action]))
        if outcome(MAPPER.dump, action)[0] == "error":
            failing.add(data["type"])
    # Two v1 schemas read attributes their models lack: both dumps fail, the same way.
    assert failing == {"customer_satisfaction_action", "jump_to_action"}


@pytest.mark.parametrize("index", [0, 7, 1234])
def test_the_large_body_round_trip(index: int) -> None:
    notification = MAPPER.load(large_notification(index), v1.WEBHOOK_REQUEST)
    event = notification.event
    check(notification)
    check(models.StepReachedResponse(actions=event.step.actions, session=event.session,
                                     interlocutor=event.interlocutor))
    check(NotificationLoader().load(json.loads(SMALL_VECTOR)))  # And the shipped vector.


def test_collections_of_models_and_lists_are_new() -> None:
    actions = [load_action(data) for data in all_actions()[:6]]
    for value in (actions, tuple(actions), {actions[0]}, [actions[:2], (actions[2],)], []):
        check(value)
    text = actions[0]
    assert DUMPER.dump(text)["alternatives"] is not text.alternatives  # As stock: a copy.


@pytest.mark.parametrize("value, error", [
    *((value, MissingMapping) for value in (object(), 1, "text", b"bytes", {"a": 1}, None, 2.5,
                                            datetime.datetime(2026, 1, 1), {1, 2})),
    ([models.Step(), 3], MissingMapping), (response(actions=[object()]), MissingMapping),
    (response(session="x"), AttributeError), (models.GoToAction(target=5), MissingMapping)])
def test_what_cannot_be_dumped_fails_as_stock(value: Any, error: type) -> None:
    with pytest.raises(error):
        DUMPER.dump(value)
    check(value, fresh())


class MyText(models.SendTextAction):
    """A bot's own subclass of a model."""


class MyOwnText(MyText):
    pass


class MyButton(models.Button):
    pass


def test_subclasses_of_models_as_stock_without_registering() -> None:
    stock = fresh()
    text = MyOwnText(alternatives=["a"], text="t")
    button = MyButton(title="Voir", action=models.ShareAction())
    answer = response([text, button, MyText(alternatives=[])])
    for value in (text, button, answer, answer, [text, button]):
        check(value, stock)
    assert MyOwnText in stock._classes_to_mappings  # The stock one did register it.
    assert MyOwnText not in MAPPER._classes_to_mappings


class Impostor:
    """Not a model, but says which model class to dump it as."""

    __lupin_type__ = models.SendTextAction

    def __init__(self) -> None:
        self.alternatives, self.text = ("x", "y"), None


def test_objects_with_a_lupin_type_as_stock() -> None:
    stock = fresh()
    marked = models.SendTextAction(alternatives=["z"])
    marked.__lupin_type__ = models.PauseBotAction  # type: ignore[attr-defined]
    plain = models.SendTextAction(alternatives=["p"])
    unregistered = models.PauseBotAction()
    unregistered.__lupin_type__ = MyText  # type: ignore[attr-defined]
    values = [plain, marked, plain, Impostor(), unregistered, unregistered,
              response([marked, plain])]
    for value in values:
        check(value, stock)
    assert DUMPER.dump(marked) == {"type": "pause_bot_action"}  # Not the cached plain plan.
    broken = models.PauseBotAction()
    broken.__lupin_type__ = []  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        DUMPER.dump(broken)
    check(broken, stock)


def test_a_class_registered_after_a_subclass_was_dumped_is_seen() -> None:
    """Dumped before, a subclass got its parent's schema; registered since, its own.
    (A stock mapper that dumped it first keeps the copy it registered then: lupin's
    answer depends on its history; ours is lupin's on a mapper in the state it reads.)"""
    mine, reference = fresh(), fresh()
    dumper = Dumper(mine)
    text = MyText(alternatives=["a"])
    assert dumper.dump(text) == fresh().dump(text) == {"type": "send_text_action",
                                                       "alternatives": ["a"]}
    for mapper in (mine, reference):
        mapper.register(MyText, lupin.Schema({"kind": f.Constant("mine")}, name="my_text"))
    assert dumper.dump(text) == reference.dump(text) == {"kind": "mine"}


def test_generic_fields_and_schemas_of_another_mapper() -> None:
    """Processors, list processors, dates, bindings, nulls skipped, write-only fields,
    schemas with their own dump, and a polymorphic field over an unregistered schema."""
    class Thing:
        pass

    class Part:
        pass

    class Tupled(f.List):  # Its own dump: the list processing after it still runs.
        def dump(self, value: Any, mapper: Any) -> Any:
            return tuple(super().dump(value, mapper))

    class Shouting(lupin.Schema):
        def dump(self, obj: Any, mapper: Any) -> Any:
            return {"shout": obj.word.upper()}

    part = lupin.Schema({"n": f.Int(pre_dump=[abs], post_dump=[str])}, name="part")
    loud = Shouting({"word": f.String()}, name="loud")
    lost = lupin.Schema({"x": f.Int()}, name="lost")
    part.add_field("next", f.Object(part, ignore_if_null=True))  # A schema inside itself.
    thing = lupin.Schema({
        "name": f.String(binding="title", pre_dump=[str.strip], post_dump=[str.lower]),
        "when": f.Date(), "at": f.DateTime(), "secret": f.String(write_only=True),
        "maybe": f.String(ignore_if_null=True), "none": f.Constant(None, ignore_if_null=True),
        "grid": f.List(f.List(f.Int(post_dump=[str])), pre_dump=[list], post_dump=[tuple]),
        "parts": f.List(f.Object(part), ignore_if_null=True), "tupled": Tupled(f.Int()),
        "dotted": f.Int(binding="a.b"),
        "any": f.PolymorphicObject(on="t", schemas={"p": part, "l": loud}),
        "lost": f.PolymorphicList(on="t", schemas={"p": part, "x": lost}),
    }, name="thing")
    mapper = lupin.Mapper()
    for cls, schema in ((Thing, thing), (Part, part), (Thing, loud)):
        mapper.register(cls, schema)
    dumper = Dumper(mapper)
    value = Thing()
    value.__dict__.update(title="  Hello  ", when=datetime.date(2026, 1, 2), maybe=None,
                          at=datetime.datetime(2026, 1, 2, 3, 4, 5), grid=[[1, -2], (3,)],
                          parts=[Part()], any=Thing(), lost=None, tupled=range(2))
    value.parts[0].n, value.parts[0].next = -4, Part()
    setattr(value, "a.b", 7)  # An attribute named with a dot, as the binding says.
    value.parts[0].next.n, value.parts[0].next.next, value.any.word = 5, None, "hey"
    assert_same(dumper.dump(value), mapper.dump(value))
    assert dumper.dump(value) == {
        "name": "hello", "when": "2026-01-02", "at": "2026-01-02T03:04:05",
        "grid": (["1", "-2"], ["3"]), "parts": [{"n": "4", "next": {"n": "5"}}],
        "tupled": [0, 1], "dotted": 7, "any": {"shout": "HEY"}, "lost": None}
    value.lost = [Part()]
    with pytest.raises(SchemaNotRegistered):
        dumper.dump(value)
    with pytest.raises(SchemaNotRegistered):
        mapper.dump(value)


class Liar:
    """Says it is of whatever class it is given: lupin's isinstance checks believe it."""

    def __init__(self, cls: type) -> None:
        self.cls, self.n, self.next, self.word = cls, 1, None, "w"

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return self.cls


def test_objects_whose_class_test_may_change_are_looked_up_each_time() -> None:
    class Part:
        pass

    class SubPart(Part):
        pass

    class Thing:
        pass

    class Shape(abc.ABC):  # noqa: B024 (a registrable ABC, no abstract method needed)
        pass

    part, shape, thing = (lupin.Schema({"n": f.Int()}, name="part"),
                          lupin.Schema({"kind": f.Constant("shape")}, name="shape"),
                          lupin.Schema({"kind": f.Constant("thing")}, name="thing"))
    holder = lupin.Schema({
        "it": f.PolymorphicObject(on="t", schemas={"s": shape, "p": part}),
        "plain": f.PolymorphicObject(on="t", schemas={"t": thing, "p": part})}, name="holder")

    def build() -> lupin.Mapper:
        mapper = lupin.Mapper()
        for cls, schema in ((Shape, shape), (Part, part), (Thing, thing), (Liar, holder)):
            mapper.register(cls, schema)
        return mapper
    dumper, outer, sub = Dumper(build()), Liar(Liar), SubPart()
    sub.n = 3
    for it, plain in ((Liar(Part), Liar(Part)), (Liar(Shape), Liar(Thing)), (sub, None)):
        outer.it, outer.plain = it, plain
        assert_same(dumper.dump(outer), build().dump(outer))
    assert dumper.dump(sub) == build().dump(sub) == {"n": 3}
    Shape.register(Part)  # Now every Part is a Shape, for isinstance.
    assert dumper.dump(outer) == build().dump(outer) == {"it": {"kind": "shape"}, "plain": None}
    assert dumper.dump(sub) == build().dump(sub) == {"kind": "shape"}


# --- Generated values: any attribute values, nested models, hostile text. ---

ACTION_CLASSES = {name: MAPPER.get_schema_mapping(schema).cls
                  for name, schema in v1.ACTION_SCHEMAS.items()}
TEXT = st.text(alphabet=st.characters(), max_size=6) | st.sampled_from(
    ["<b>é</b> & <i>", "\x00\r\n", "😀\u0301", "\ud800", "Ｆｕｌｌ"])
LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT


def _model(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A model of a random action class whose fields' attributes get random values (all of
    them, or some: a missing one fails the dump)."""
    def attributes(name: str) -> st.SearchStrategy[Any]:
        names = [field.binding or key for key, field in v1.ACTION_SCHEMAS[name]._fields.items()
                 if not isinstance(field, f.Constant)]
        every = dict.fromkeys(names, children)
        return st.tuples(st.just(ACTION_CLASSES[name]), st.fixed_dictionaries(every)
                         | st.fixed_dictionaries({}, optional=every))

    def build(cls_and_values: tuple[type, dict[str, Any]]) -> Any:
        obj = object.__new__(cls_and_values[0])
        vars(obj).update(cls_and_values[1])
        return obj
    return st.sampled_from(sorted(ACTION_CLASSES)).flatmap(attributes).map(build)


VALUES = st.recursive(LEAF, lambda children: st.lists(children, max_size=3) | st.dictionaries(
    TEXT, children, max_size=3) | _model(children), max_leaves=20)
MODELS = _model(VALUES) | st.lists(_model(VALUES), max_size=3) | VALUES
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(FAST, max_examples=150)
@given(MODELS)
def test_generated_models_and_values(value: Any) -> None:
    check(value, fresh())


@settings(FAST, max_examples=25)
@given(st.data())
def test_hostile_text_in_every_action(data: st.DataObject) -> None:
    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: value if key == "type" else replace(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(item) for item in node]
        return data.draw(TEXT) if isinstance(node, str) else node
    action = replace(data.draw(st.sampled_from(all_actions())))
    try:
        loaded = load_action(action)
    except Exception:  # Some of v1's own loaders refuse some text; nothing to dump then.
        return
    check(response([loaded]))


# --- Threads, bounds, global state. ---

def test_dumping_from_four_threads_at_once() -> None:
    dumper = Dumper()  # Cold caches: the threads fill them together.
    values = [load_action(data) for data in all_actions()] + [
        MyOwnText(alternatives=["t"]), Impostor(), MyButton(title="b", action=None), object()]
    stock = fresh()
    expected = [outcome(stock.dump, value) for value in values]

    def work(offset: int) -> None:
        for _ in range(15):
            for index in range(len(values)):
                number = (index + offset) % len(values)
                assert_same(outcome(dumper.dump, values[number]), expected[number])

    in_threads(work)


def test_the_type_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dumping, "CACHE_SIZE", 3)
    dumper, stock = Dumper(), fresh()
    classes = [type(f"Text{number}", (models.SendTextAction,), {}) for number in range(8)]
    for cls in classes * 2:
        text = cls(alternatives=[cls.__name__])
        for value in (text, response([text])):
            assert_same(dumper.dump(value), stock.dump(value))
    assert len(dumper._types) == 3


def mapper_state(mapper: lupin.Mapper) -> Any:
    """Everything a dump could change in a mapper, its schemas and fields, and lupin."""
    schemas = list(mapper._schemas_to_mapping.items())
    return ([(cls, list(mappings)) for cls, mappings in mapper._classes_to_mappings.items()],
            schemas, dict(mapper._schemas_by_name), dict(lupin.schema._globals),
            [(schema.name, list(schema._fields.items()), [dict(vars(field)) for field in
                                                          schema._fields.values()])
             for schema, _ in schemas])


def test_the_mapper_and_lupin_are_left_untouched() -> None:
    values = [MyOwnText(alternatives=["a"]), Impostor(), object(), 3, {1}, MyButton(title="b"),
              response([MyText(alternatives=[]), object()])]
    marked = models.PauseBotAction()
    marked.__lupin_type__ = MyOwnText  # type: ignore[attr-defined]
    values.append(marked)
    before = mapper_state(MAPPER)
    dumper = Dumper()  # Compiling is part of what must change nothing.
    for value in values:
        outcome(dumper.dump, value)
    assert mapper_state(MAPPER) == before
    stock = fresh()  # Where the stock dump would have changed it:
    stock_before = mapper_state(stock)
    for value in values:
        outcome(stock.dump, value)
    assert mapper_state(stock) != stock_before


# --- Step 8 on the wire: the bytes the stock encoder writes. ---

def test_the_answer_is_what_the_stock_encoder_writes(vector_bytes: bytes) -> None:
    event = MAPPER.load(large_notification(3), v1.WEBHOOK_REQUEST).event
    result = {"response": models.StepReachedResponse(
        actions=event.step.actions, session=event.session, interlocutor=event.interlocutor),
        "more": [MyText(alternatives=["é", "\ud800"]), (models.PauseBotAction(),)],
        "numbers": [2.5, -0.0, 10**30], "tuple": (1, "ü")}
    app = Webhook(request_max_age=None)
    app.on(events.CONVERSATION_STEP_REACHED, lambda request, response, notification: result)
    answer = client(app).post("/", vector_bytes, headers={"Content-Type": "application/json"})
    assert answer.status_int == 200
    assert answer.body == json.dumps(result, default=fresh().dump, ensure_ascii=True,
                                     allow_nan=False, separators=(",", ":")).encode()


