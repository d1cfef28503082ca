"""Step 7's cache of loaded steps: a bot's step arrives the same in every notification.

A step's id, name and actions are what the bot author configured, so the notifications of
one step carry the very same ``data.step`` document; loading its thirty actions is most of
the loading work. :class:`StepCache` wraps the plan of the step schema:

* the key is the step document encoded by msgspec: equal keys mean equal documents, value
  for value and type for type (``1`` and ``1.0`` differ, as do key orders), so equal
  loaded models;
* the cache keeps a private copy of the models, and every hit gets a fresh deep copy of it:
  handlers change the models they get, and must never see each other's changes. The copy
  is made by a function generated for the step (one expression building the models, their
  lists and dicts, the strings and numbers shared), several times faster than a walk;
* a step whose loading edits the document is not kept (handlers must see the same
  ``request.json`` either way);
* the markup budget is charged on a hit exactly what loading the step spent, at the same
  point of the load, so a notification is accepted or refused the same either way. When
  the rest of the budget cannot pay it, the step is loaded for real, so the refusal names
  the very field it names without the cache.
"""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable

import msgspec

from . import introspect, sanitize

#: At most this many steps are kept, each at most MAX_KEY_BYTES long as JSON. A kept step
#: costs about six times its JSON size (62 KB for the 10 KB step of the benchmarks): about
#: 8 MiB for 128 such steps, 25 MiB at worst.
CACHE_SIZE = 128
MAX_KEY_BYTES = 32768

_ENCODE = msgspec.json.Encoder().encode
#: What a loaded step holds that is never changed in place: shared by every copy.
_IMMUTABLE = frozenset((str, int, float, bool, type(None)))


class StepCache:
    """Loads step documents with ``load``, once per distinct document."""

    def __init__(self, load: Callable[[Any], Any]) -> None:
        self._load = load
        self._entries: dict[bytes, tuple[Callable[[], Any], int]] = {}
        self._lock = threading.Lock()

    def __call__(self, data: Any) -> Any:
        key = self._key(data)
        if key is None:
            return self._load(data)
        entry = self._entries.get(key)
        if entry is not None and sanitize.spend(entry[1]):
            return entry[0]()
        before = sanitize.left()
        loaded = self._load(data)
        after = sanitize.left()
        # A step whose loading edits the document (clustaar.schemas' customer satisfaction
        # choices do) is not kept: a hit would not make that edit.
        if before is not None and after is not None and self._key(data) == key:
            self._keep(key, copier(loaded), before - after)
        return loaded

    @staticmethod
    def _key(data: Any) -> Any:
        if type(data) is not dict:
            return None
        try:
            key = _ENCODE(data)
        except (TypeError, ValueError):  # A lone surrogate, say: loaded every time.
            return None
        return key if len(key) <= MAX_KEY_BYTES else None

    def _keep(self, key: bytes, build: Callable[[], Any], cost: int) -> None:
        with self._lock:
            if len(self._entries) >= CACHE_SIZE:
                del self._entries[next(iter(self._entries))]  # The oldest one.
            self._entries[key] = (build, cost)

    def __len__(self) -> int:
        return len(self._entries)


def clone(value: Any) -> Any:
    """A deep copy of loaded models: new models, lists and dicts; the same strings and
    numbers. (What loading never builds goes through ``copy.deepcopy``.)"""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is list:
        return [item if type(item) in _IMMUTABLE else clone(item) for item in value]
    if kind is dict:
        return {key: item if type(item) in _IMMUTABLE else clone(item)
                for key, item in value.items()}
    if introspect.plain_model(kind):
        attrs = value.__dict__.copy()
        for name, item in attrs.items():
            if type(item) not in _IMMUTABLE:
                attrs[name] = clone(item)  # Same keys: the dict keeps its size.
        copied = object.__new__(kind)
        copied.__dict__.update(attrs)
        return copied
    return copy.deepcopy(value)


#: Nesting levels a generated copier may have (Python's parser allows about 200 brackets
#: in one expression, and each level opens up to three); deeper steps are walked.
MAX_NESTING = 40


class _TooDeep(Exception):
    pass


def _new(kind: type, attrs: dict[str, Any]) -> Any:
    model: Any = object.__new__(kind)
    model.__dict__.update(attrs)
    return model


def copier(value: Any) -> Callable[[], Any]:
    """A function returning a fresh :func:`clone` of ``value`` (as ``value`` is now) at
    each call. Its code refers to every string, number, key and class by position in a
    table: nothing from the document is ever part of the source."""
    constants: list[Any] = []
    classes: list[type] = []

    def constant(item: Any) -> str:
        constants.append(item)
        return f"K[{len(constants) - 1}]"

    def expression(item: Any, depth: int) -> str:
        if depth > MAX_NESTING:
            raise _TooDeep
        kind = type(item)
        if kind in _IMMUTABLE:
            return constant(item)
        if kind is list:
            return "[" + ",".join(expression(part, depth + 1) for part in item) + "]"
        if kind is dict or introspect.plain_model(kind):
            pairs = ",".join(f"{constant(key)}:{expression(part, depth + 1)}"
                             for key, part in (item if kind is dict else vars(item)).items())
            if kind is dict:
                return "{" + pairs + "}"
            classes.append(kind)
            return f"N(C[{len(classes) - 1}],{{{pairs}}})"
        return f"D({constant(copy.deepcopy(item))})"  # A private copy, copied again.

    try:
        source = f"def make(K, C, N, D):\n    return lambda: {expression(value, 0)}\n"
    except _TooDeep:
        kept = clone(value)
        return lambda: clone(kept)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<step copier>", "exec"), namespace)  # Our own code: see above.
    build: Callable[[], Any] = namespace["make"](tuple(constants), tuple(classes), _new,
                                                 copy.deepcopy)
    return build
