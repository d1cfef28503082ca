"""Our loader gives exactly what the stock clustaar.schemas loader gives, and changes nothing.

The reference is ``v1.get_mapper(factory=lupin.constructor).load(data, v1.WEBHOOK_REQUEST)``.
Results are compared by type, by ``MAPPER.dump`` and attribute by attribute (values, types,
and the order the model's ``__init__`` sets them in). Where the stock loader raises, ours
must raise ``LoadError``.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

import bleach
import lupin
import lupin.fields.field
import lupin.processors
import pytest
from clustaar.schemas import models, processors, v1
from hypothesis import given, settings
from hypothesis import strategies as st
from support.models import LOADER, STOCK, WHOLE_BODY, check, dump, stock_load
from support.threads import in_threads

from benchmarks.bodies import INPUTS, SMALL_VECTOR, every_sanitised_field, large_notification
from clustaar.webhook import sanitize
from clustaar.webhook.loading import MAPPER, LoadError, NotificationLoader

#: Pieces of text that exercise everything bleach and NFKC rewrite.
FRAGMENTS = [
    "<b>", "</b>", "<br>", "<br/>", "<script>alert(1)</script>", "<!-- note -->", "<p title=\"x\">",
    "<a href=\"https://exemple.fr/?a=1&b=2\" target=\"_blank\" onclick=\"x()\">lien</a>",
    "<a href='javascript:alert(1)' target='_self'>x</a>", "<img src=x onerror=alert(1)>", "<3",
    "&", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#x27;", "&nbsp;", "&eacute;", "&bogus;",
    "<", ">", "\"", "'", "=", "/", "\r\n", "\r", "\n", "\t", "\x00", "\x07", "\x0b", "\x0c",
    "\x1b", "\x7f", "\x85", "\u00a0", "\u2028", "\ufeff", "\ufffd", "é", "e\u0301", "Ç", "ß",
    "ﬁ", "Ｆｕｌｌ", "１２３", "½", "😀", "👍🏽", "\U0001f1eb\U0001f1f7", "Å", "ア", "ｱ", " ", "  ",
]
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.characters()), max_size=8).map("".join)
NOT_TEXT = st.one_of(st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
                     st.booleans(), st.none(), st.just([]), st.just(["x"]), st.just({}),
                     st.just({"a": "b"}))


def test_the_shipped_vector() -> None:
    check(json.loads(SMALL_VECTOR))


@pytest.mark.parametrize("index", [0, 1, 7, 42, 1234])
def test_the_large_realistic_body(index: int) -> None:
    data = large_notification(index)
    check(data)
    assert isinstance(dump(LOADER.load(copy.deepcopy(data))), dict)  # Fully dumpable.


@pytest.mark.parametrize("input_kind", sorted(INPUTS))
def test_every_sanitised_field_custom_schema_and_input(input_kind: str) -> None:
    check(every_sanitised_field(0, input_kind))


def _replace_strings(data: Any, draw: Callable[[], Any]) -> Any:
    """``data`` with every string replaced by a draw, except the polymorphic ``type`` keys."""
    if isinstance(data, dict):
        return {key: value if key == "type" else _replace_strings(value, draw)
                for key, value in data.items()}
    if isinstance(data, list):
        return [_replace_strings(item, draw) for item in data]
    return draw() if isinstance(data, str) else data


@settings(WHOLE_BODY, max_examples=40)
@given(st.data(), st.sampled_from(sorted(INPUTS)))
def test_hostile_text_in_every_string_field(data: st.DataObject, input_kind: str) -> None:
    body = _replace_strings(every_sanitised_field(0, input_kind), lambda: data.draw(TEXT))
    body["topic"] = "conversation.step_reached"
    check(body)


@settings(WHOLE_BODY, max_examples=40)
@given(st.data(), st.integers(0, 10**6))
def test_a_non_text_value_in_a_string_field(data: st.DataObject, seed: int) -> None:
    """Stock processors leave some values alone (0, [], None...) and fail on others.
    (The ids handlers rely on are left out: they must be strings, see test_loading.py.)"""
    body = every_sanitised_field()
    strings: list[tuple[Any, Any]] = []
    required = (body["data"]["step"], body["data"]["interlocutor"])

    def collect(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, str) and key != "type" and not (
                    key == "id" and any(node is parent for parent in required)):
                strings.append((node, key))
            elif isinstance(value, (dict, list)):
                collect(value)
    collect(body["data"])
    node, key = strings[seed % len(strings)]
    node[key] = data.draw(NOT_TEXT)
    check(body)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_html_sanitize_equals_the_stock_processor(text: str) -> None:
    assert sanitize.html_sanitize(text) == processors.html_sanitize(text)


#: Every code point up to the end of Latin Extended-B, then line breaks, no-break and
#: zero-width spaces, surrogates, non-characters and the last code point.
CODEPOINTS = [*range(0x250), 0x85, 0xa0, 0x2028, 0xd800, 0xdfff, 0xfdd0, 0xfeff, 0xfffe, 0xffff,
              0x1fffe, 0x10ffff]


def test_html_sanitize_on_each_character() -> None:
    differ = []
    for codepoint in CODEPOINTS:
        char = chr(codepoint)
        for text in (char, f"a{char}b", f"{char} &amp; <i>"):
            ours, stock = sanitize.html_sanitize(text), processors.html_sanitize(text)
            if ours != stock:
                differ.append((f"U+{codepoint:04X}", text, ours, stock))
    assert differ == []


@pytest.mark.parametrize("value", ["", 0, 0.0, False, None, [], {}])
def test_html_sanitize_leaves_falsy_values_alone(value: Any) -> None:
    assert sanitize.html_sanitize(value) is value is processors.html_sanitize(value)


@pytest.mark.parametrize("value", [1, 2.5, True, ["<b>"], {"a": 1}, b"<b>"])
def test_html_sanitize_refuses_other_values_as_the_stock_one(value: Any) -> None:
    with pytest.raises(TypeError):
        processors.html_sanitize(value)
    with pytest.raises(TypeError):
        sanitize.html_sanitize(value)


def test_the_cache_stays_bounded_and_long_texts_are_not_kept() -> None:
    texts = [f"<b>texte n°{number}</b> & co" for number in range(sanitize.CACHE_SIZE + 50)]
    assert [sanitize.html_sanitize(text) for text in texts] == [
        processors.html_sanitize(text) for text in texts]
    assert sanitize.cache_info().currsize == sanitize.CACHE_SIZE
    long_text = "<i>x</i>" * (sanitize.MAX_CACHED_LENGTH // 8 + 1)
    misses = sanitize.cache_info().misses
    assert sanitize.html_sanitize(long_text) == processors.html_sanitize(long_text)
    assert sanitize.cache_info().misses == misses  # Cleaned without touching the cache.


def test_loading_from_many_threads_at_once() -> None:
    bodies = [_replace_strings(every_sanitised_field(index),
                               lambda index=index: f"<b>fil {index}</b> & é\r\n")
              for index in range(12)]
    expected = [dump(stock_load(copy.deepcopy(body))) for body in bodies]
    results: dict[int, Any] = {}

    def work(offset: int) -> None:
        for index in range(len(bodies)):
            number = (index + offset) % len(bodies)
            results[offset * 100 + number] = dump(LOADER.load(copy.deepcopy(bodies[number])))

    in_threads(work)
    assert len(results) == 4 * len(bodies)
    for key, result in results.items():
        assert result == expected[key % 100]


def test_stricter_where_an_object_or_a_list_is_expected(vector: dict[str, Any]) -> None:
    """Documented choice (loading.py): the stock loader takes these, with odd results."""
    vector["data"]["interlocutor"]["location"] = [{"lat": 1, "long": 2}]
    stock = stock_load(copy.deepcopy(vector))
    assert isinstance(stock.event.interlocutor.location, list)  # A list of Coordinates.
    with pytest.raises(LoadError, match=r"data\.interlocutor\.location: must be an object"):
        LOADER.load(vector)
    vector["data"]["interlocutor"]["location"] = None
    vector["data"]["step"]["actions"] = [{"type": "send_text_action", "alternatives": "hi"}]
    assert stock_load(copy.deepcopy(vector)).event.step.actions[0].alternatives == ["h", "i"]
    with pytest.raises(LoadError, match=r"data\.step\.actions\.0\.alternatives: must be a list"):
        LOADER.load(vector)


# --- Nothing global changes: other code in the process sees the libraries as they were. ---

def _reachable_schemas() -> list[Any]:
    """Every schema the loader compiles, from WEBHOOK_REQUEST down."""
    found: dict[int, Any] = {}

    def visit_field(field: Any) -> None:
        for schema in ([field._schema] if hasattr(field, "_schema") else []) + list(
                getattr(field, "_schemas_by_json_value", {}).values()):
            visit(schema)
        if hasattr(field, "_field"):
            visit_field(field._field)

    def visit(schema: Any) -> None:
        if id(schema) not in found:
            found[id(schema)] = schema
            for field in schema._fields.values():
                visit_field(field)
    visit(v1.WEBHOOK_REQUEST)
    return list(found.values())


def _value_state(value: Any) -> Any:
    """Identity, plus a copy of the contents of containers (to see them edited in place)."""
    if isinstance(value, (list, dict, set, tuple)):
        return id(value), copy.copy(value)
    return id(value)


def _namespace_state(namespace: Any) -> dict[str, Any]:
    return {name: _value_state(value) for name, value in vars(namespace).items()
            if name != "__dict__" and name != "__weakref__"}


def snapshot() -> dict[str, Any]:
    """Identity and contents of everything the loader reads in bleach, lupin and schemas."""
    state: dict[str, Any] = {}
    for module in (bleach, bleach.sanitizer, processors, v1, models, lupin, lupin.processors,
                   lupin.fields, lupin.fields.field):
        state[module.__name__] = _namespace_state(module)
    schemas = _reachable_schemas()
    candidates = [lupin.Schema, lupin.Mapper, lupin.Mapping, *vars(lupin.fields).values(),
                  *vars(models).values(), *(type(schema) for schema in schemas)]
    for cls in candidates:
        if isinstance(cls, type):
            state[f"class {cls.__module__}.{cls.__qualname__}"] = _namespace_state(cls)
    for schema in schemas:
        fields_state = {}
        for key, field in schema._fields.items():
            processors_state = {name: (_value_state(value), [
                _value_state(cell.cell_contents) for cell in value.__closure__ or ()])
                for name, value in vars(field).items() if name.endswith("_processor")}
            fields_state[key] = (id(field), _namespace_state(field), processors_state)
        state[f"schema {schema.name}"] = (_namespace_state(schema), fields_state)
    for name, mapper in (("ours", MAPPER), ("stock", STOCK)):
        state[f"mapper {name}"] = [(id(schema), id(mapping), _namespace_state(mapping))
                                   for schema, mapping in mapper._schemas_to_mapping.items()]
    state["bleach allowed"] = (list(bleach.sanitizer.ALLOWED_TAGS),
                               dict(bleach.sanitizer.ALLOWED_ATTRIBUTES),
                               list(processors.SANE_TAGS), dict(processors.ALLOWED_ATTRIBUTES))
    return state


def test_loading_changes_no_global_state_of_schemas_lupin_or_bleach(vector: dict[str, Any]) -> None:
    before = snapshot()
    loader = NotificationLoader()  # Compiling the plan is part of what must change nothing.
    for body in (every_sanitised_field(3), vector, json.loads(SMALL_VECTOR)):
        loader.load(copy.deepcopy(body))
    broken = copy.deepcopy(vector)
    broken["data"]["interlocutor"]["firstName"] = 5
    with pytest.raises(LoadError):
        loader.load(broken)
    after = snapshot()
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key
    # And the stock loader still runs the stock processors: a new Cleaner per call.
    assert processors.html_sanitize("<b>x</b> & <i>") == "<b>x</b> & <i></i>"
    assert bleach.clean is bleach.__dict__["clean"] and bleach.clean.__module__ == "bleach"

