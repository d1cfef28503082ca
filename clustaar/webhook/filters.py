"""Route filters: predicates on a notification's JSON, composable with ``& | ~``.

Built-in filters take the request (reading its parsed ``json``) or a plain
``dict``, and never raise on whatever the request data holds.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Callable, Optional, Union

FilterFunc = Callable[[Any], Any]
_MISSING = object()


def _data(target: Any) -> Any:
    """The parsed JSON of a request, or ``target`` itself when it is already data."""
    return target if isinstance(target, dict) else getattr(target, "json", None)


def _key(value: Any) -> tuple[Any, Any]:
    """Comparison key that keeps JSON ``true`` apart from ``1`` (Python says they are equal).

    Objects and arrays are keyed item by item, so ``{"a": true}`` differs from ``{"a": 1}``.
    """
    if isinstance(value, dict):
        return (dict, {name: _key(item) for name, item in value.items()})
    if isinstance(value, list):
        return (list, [_key(item) for item in value])
    return (isinstance(value, bool), value)


def _is_index(key: str) -> bool:
    """Whether a path segment is a list index: ASCII digits only ("²" is a digit to Python)."""
    return key.isascii() and key.isdigit()


class Filter:
    """Base of all filters: a callable on a request (or dict) that composes."""

    def __call__(self, target: Any) -> bool:
        raise NotImplementedError

    # A non-callable operand gives NotImplemented, so Python raises TypeError
    # when the filter is built instead of the route failing on each request.
    def __and__(self, other: FilterFunc) -> Filter:
        return And(self, other) if callable(other) else NotImplemented

    def __rand__(self, other: FilterFunc) -> Filter:
        return And(other, self) if callable(other) else NotImplemented

    def __or__(self, other: FilterFunc) -> Filter:
        return Or(self, other) if callable(other) else NotImplemented

    def __ror__(self, other: FilterFunc) -> Filter:
        return Or(other, self) if callable(other) else NotImplemented

    def __invert__(self) -> Filter:
        return Not(self)


def _name(func: FilterFunc) -> str:
    return repr(func) if isinstance(func, Filter) else getattr(func, "__qualname__", repr(func))


class And(Filter):
    """True when both sides are, evaluated left to right, short-circuiting."""

    def __init__(self, left: FilterFunc, right: FilterFunc) -> None:
        self.left, self.right = left, right

    def __call__(self, target: Any) -> bool:
        return bool(self.left(target)) and bool(self.right(target))

    def __repr__(self) -> str:
        return f"({_name(self.left)} & {_name(self.right)})"


class Or(Filter):
    """True when either side is, evaluated left to right, short-circuiting."""

    def __init__(self, left: FilterFunc, right: FilterFunc) -> None:
        self.left, self.right = left, right

    def __call__(self, target: Any) -> bool:
        return bool(self.left(target)) or bool(self.right(target))

    def __repr__(self) -> str:
        return f"({_name(self.left)} | {_name(self.right)})"


class Not(Filter):
    """True when the wrapped filter is not."""

    def __init__(self, inner: FilterFunc) -> None:
        self.inner = inner

    def __call__(self, target: Any) -> bool:
        return not self.inner(target)

    def __repr__(self) -> str:
        return f"~{_name(self.inner)}"


class JSONKeyFilter(Filter):
    """A filter on the value found at a dotted key path such as ``data.step.id``."""

    def __init__(self, path: str) -> None:
        if not isinstance(path, str) or not path:
            raise TypeError(f"a key path must be a non-empty string, not {path!r}")
        self.path = path
        self._keys = tuple(path.split("."))

    def lookup(self, target: Any) -> Any:
        """The value at the path, or ``_MISSING``; a numeric key indexes a list."""
        value = _data(target)
        for key in self._keys:
            if isinstance(value, dict):
                value = value.get(key, _MISSING)
            elif isinstance(value, list) and _is_index(key) and int(key) < len(value):
                value = value[int(key)]
            else:
                return _MISSING
            if value is _MISSING:
                return _MISSING
        return value

    def __call__(self, target: Any) -> bool:
        value = self.lookup(target)
        return value is not _MISSING and self.accepts(value)

    def accepts(self, value: Any) -> bool:
        """Whether a present value satisfies the filter."""
        raise NotImplementedError


class JSONKeyEquals(JSONKeyFilter):
    """Validates that a JSON key equals an expected value."""

    def __init__(self, path: str, value: Any) -> None:
        super().__init__(path)
        self.value = value
        self._expected = _key(value)

    def accepts(self, value: Any) -> bool:
        try:
            return bool(_key(value) == self._expected)
        except Exception:  # An exotic expected value with a failing __eq__.
            return False

    def __repr__(self) -> str:
        return f"JSONKeyEquals({self.path!r}, {self.value!r})"


class JSONKeyIn(JSONKeyFilter):
    """Validates that a JSON key's value is one of a set of values."""

    def __init__(self, path: str, values: Iterable[Any]) -> None:
        super().__init__(path)
        if isinstance(values, (str, bytes)):
            raise TypeError(f"JSONKeyIn takes a collection of values, not {values!r}")
        self.values = tuple(values)
        try:
            self._keys_set: Union[frozenset[Any], tuple[Any, ...]] = frozenset(
                map(_key, self.values))
        except TypeError:  # Unhashable expected values: compare one by one.
            self._keys_set = tuple(map(_key, self.values))

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (dict, list)):
            return False  # A container is never "in" a set of values.
        try:
            return _key(value) in self._keys_set
        except Exception:
            return False

    def __repr__(self) -> str:
        return f"JSONKeyIn({self.path!r}, {list(self.values)!r})"


class JSONKeyExists(JSONKeyFilter):
    """Validates that a JSON key is present (even with a ``null`` value)."""

    def accepts(self, value: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return f"JSONKeyExists({self.path!r})"


class StepID(JSONKeyFilter):
    """Validates that ``data.step.id`` equals an id, or is one of a list/tuple/set of ids."""

    def __init__(self, step_id: Union[str, Iterable[str]]) -> None:
        super().__init__("data.step.id")
        matcher: JSONKeyFilter
        if isinstance(step_id, str):
            matcher = JSONKeyEquals(self.path, step_id)
        elif isinstance(step_id, (list, tuple, set, frozenset)):
            matcher = JSONKeyIn(self.path, step_id)
        else:
            raise TypeError(
                f"StepID takes a step id or a list/tuple/set of ids, not {type(step_id).__name__}")
        self.step_id = step_id
        self._accepts = matcher.accepts
        ids = (step_id,) if isinstance(step_id, str) else tuple(step_id)
        try:
            #: The comparison keys of the accepted ids, for the router's index.
            self.keys: Optional[frozenset[Any]] = frozenset(map(_key, ids))
        except TypeError:  # An unhashable id: this filter cannot be indexed.
            self.keys = None

    def accepts(self, value: Any) -> bool:
        return self._accepts(value)

    def __repr__(self) -> str:
        return f"StepID({self.step_id!r})"


_STEP_ID = JSONKeyExists("data.step.id")


def step_key(target: Any) -> Optional[Hashable]:
    """The comparison key of the request's ``data.step.id``, as :attr:`StepID.keys` holds them.

    ``None`` when the request has no id that any :class:`StepID` could accept.
    """
    value = _STEP_ID.lookup(target)
    if value is _MISSING or isinstance(value, (dict, list)):
        return None
    return _key(value)
