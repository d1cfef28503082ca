"""Built-in filters against any JSON at any path: they never raise and mean what they say.

A filter is generated as a small expression tree, built twice: once with the
public filter classes and ``& | ~`` (plain callables on either side), once as a
model evaluated here, left to right with short-circuits. Both must agree on
every document; a plain callable that raises marks where evaluation must stop.
"""
from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clustaar.webhook.filters import JSONKeyEquals, JSONKeyExists, JSONKeyIn, StepID

_MISSING = object()

#: Keys biased towards collisions with the generated documents, digits included
#: (ASCII and not: only ASCII decimal numbers index lists).
KEYS = st.sampled_from(["data", "step", "id", "a", "0", "1", "2", "10", "-1", "²", "٣", "", " "]) \
    | st.text(max_size=4).filter(lambda key: "." not in key)
PATHS = st.lists(KEYS, min_size=1, max_size=5).map(".".join).filter(bool)  # "" is refused when built.
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=4) \
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0, 1, 0.0, 1.0, "1"])
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS, inner, max_size=4), max_leaves=15)


class Carrier(NamedTuple):
    """Stands for a request: filters read its parsed ``json``."""

    json: Any


def lookup(document: Any, path: str) -> Any:
    """The value at ``path`` by the contract's rules, or ``_MISSING``."""
    value = document
    for key in path.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and re.fullmatch(r"[0-9]+", key) and int(key) < len(value):
            value = value[int(key)]
        else:
            return _MISSING
    return value


def same(left: Any, right: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, inside containers too; numbers compare by value."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return False
    return bool(left == right)


class Stop(Exception):
    """Raised by a plain callable that evaluation must never reach."""


def _model(tree: tuple[Any, ...], document: Any) -> bool:
    kind = tree[0]
    if kind == "and":
        return _model(tree[1], document) and _model(tree[2], document)
    if kind == "or":
        return _model(tree[1], document) or _model(tree[2], document)
    if kind == "not":
        return not _model(tree[1], document)
    if kind == "plain":
        if tree[1] is Stop:
            raise Stop
        return bool(tree[1])
    found = lookup(document, "data.step.id" if kind == "step" else tree[1])
    if kind == "exists":
        return found is not _MISSING
    if found is _MISSING:
        return False
    if kind == "equals":
        return same(found, tree[2])
    if kind == "in":
        return not isinstance(found, (dict, list)) and any(same(found, v) for v in tree[2])
    return same(found, tree[1]) if isinstance(tree[1], str) else \
        any(same(found, v) for v in tree[1])


def _plain(result: Any) -> Callable[[Any], Any]:
    def check(target: Any) -> Any:
        if result is Stop:
            raise Stop
        return result
    return check


def build(tree: tuple[Any, ...]) -> Any:
    """The filter a bot author would write for ``tree``."""
    kind = tree[0]
    if kind in ("and", "or"):
        left, right = build(tree[1]), build(tree[2])
        return left & right if kind == "and" else left | right
    if kind == "not":
        return ~build(tree[1])
    if kind == "plain":
        return _plain(tree[1])
    if kind == "exists":
        return JSONKeyExists(tree[1])
    if kind == "equals":
        return JSONKeyEquals(tree[1], tree[2])
    if kind == "in":
        return JSONKeyIn(tree[1], tree[2])
    return StepID(tree[1])


STEP_IDS = st.text(max_size=3) | st.lists(st.text(max_size=3), max_size=3) \
    | st.lists(st.text(max_size=3), max_size=3).map(tuple) \
    | st.sets(st.text(max_size=3), max_size=3)
LEAVES = st.one_of(
    PATHS.map(lambda path: ("exists", path)),
    st.tuples(st.just("equals"), PATHS, JSON),
    st.tuples(st.just("in"), PATHS, st.lists(JSON, max_size=4)),
    STEP_IDS.map(lambda ids: ("step", ids)))
PLAIN = st.tuples(st.just("plain"), JSON | st.just(Stop))
FILTERS = st.recursive(LEAVES, lambda inner: st.one_of(
    st.tuples(st.sampled_from(["and", "or"]), inner, inner),
    # A plain callable on either side of a built-in filter.
    st.tuples(st.sampled_from(["and", "or"]), inner, PLAIN),
    st.tuples(st.sampled_from(["and", "or"]), PLAIN, inner),
    st.tuples(st.just("not"), inner)), max_leaves=6)
DOCUMENTS = JSON | st.fixed_dictionaries({"data": st.fixed_dictionaries(
    {"step": st.fixed_dictionaries({"id": JSON | st.text(max_size=3)})})})


@given(tree=FILTERS, document=DOCUMENTS, as_request=st.booleans())
def test_filters_never_raise_and_agree_with_the_model(tree: tuple[Any, ...], document: Any,
                                                     as_request: bool) -> None:
    if not as_request and not isinstance(document, dict):
        as_request = True  # A plain target must be a dict; any JSON rides on a request.
    target = Carrier(document) if as_request else document
    check = build(tree)
    try:
        expected = _model(tree, document)
    except Stop:
        with pytest.raises(Stop):  # Only the plain callable may raise, and only if reached.
            check(target)
        return
    result = check(target)
    assert result is expected


@given(filter_tree=LEAVES, target=JSON | st.builds(Carrier, JSON) | st.just(object()))
def test_any_target_never_makes_a_filter_raise(filter_tree: tuple[Any, ...], target: Any) -> None:
    """Whatever is passed in (a list, a string, a request without JSON): a bool, never an error."""
    assert build(filter_tree)(target) in (True, False)


# Keys with leading zeros ("007") are left out here: whether they index a list is unspecified.
PLACED_KEYS = st.lists(KEYS.filter(lambda key: not re.fullmatch(r"0[0-9]+", key)),
                       min_size=1, max_size=5).filter(lambda keys: keys != [""])
SIBLINGS = st.dictionaries(KEYS, SCALARS, max_size=2)
FILLERS = st.lists(SCALARS, min_size=4, max_size=4)


@st.composite
def placed(draw: Any) -> tuple[Any, str, Any]:
    """A document holding a generated value at a generated path (lists for numeric keys)."""
    keys, value = draw(PLACED_KEYS), draw(JSON)
    document = value
    for key in reversed(keys):
        if re.fullmatch(r"[0-9]", key) and int(key) < 5 and draw(st.booleans()):
            document = draw(FILLERS)[:int(key)] + [document]
        else:
            document = {**draw(SIBLINGS), key: document}
    return document, ".".join(keys), value


@given(case=placed(), other=JSON)
def test_a_value_at_any_path_is_found(case: tuple[Any, str, Any], other: Any) -> None:
    document, path, value = case
    # A plain target must be a dict; a request may carry a top-level list.
    target = document if isinstance(document, dict) else Carrier(document)
    assert JSONKeyExists(path)(target) is True
    assert JSONKeyEquals(path, value)(target) is True
    assert JSONKeyEquals(path, other)(Carrier(document)) is same(value, other)
    container = isinstance(value, (dict, list))
    assert JSONKeyIn(path, [other, value])(target) is (not container)


@given(step_id=st.integers() | st.none() | st.binary() | st.dictionaries(st.text(), st.text())
       | st.floats() | st.booleans())
def test_step_id_of_another_type_is_refused_when_built(step_id: Any) -> None:
    with pytest.raises(TypeError):
        StepID(step_id)


#: Values Python calls equal that JSON keeps apart (true is not 1), inside containers too.
LOOKALIKES = [0, 1, True, False, 0.0, 1.0, "1", "true", None, [1], [True], {"a": 1}, {"a": True}]


def test_equality_keeps_json_types_apart() -> None:
    for found in LOOKALIKES:
        for expected in LOOKALIKES:
            assert JSONKeyEquals("k", expected)({"k": found}) is same(found, expected), \
                (found, expected)
            assert JSONKeyIn("k", [expected])({"k": found}) is \
                (same(found, expected) and not isinstance(found, (dict, list))), (found, expected)


@given(items=st.lists(SCALARS, max_size=12),
       key=st.sampled_from(["²", "¹", "٣", "০", "①", "1e1", "+1", " 1", "1 ", "0x1", "-0"])
       | st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=2)
       | st.integers(0, 15).map(str))
def test_only_ascii_numbers_index_lists(items: list[Any], key: str) -> None:
    """``²`` or ``٣`` are digits to Python, but no list index: never found, never raising."""
    exists = JSONKeyExists(f"a.{key}")({"a": items})
    assert exists is bool(re.fullmatch(r"[0-9]+", key) and int(key) < len(items))
