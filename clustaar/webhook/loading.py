"""Step 7 of the pipeline: load the notification into ``clustaar.schemas`` models, fast.

Handlers get exactly what ``v1.get_mapper(factory=lupin.constructor).load(data,
v1.WEBHOOK_REQUEST)`` returns: the same model classes with the same attribute values.
The stock walk is slow (each sanitised text builds a new bleach sanitiser), so:

* the schema tree is compiled once into a plan of small closures, one per schema and
  field, and a request runs no per-field type dispatch. The field processors are read
  from the fields, never changed (see :mod:`.introspect`); the stock ``html_sanitize`` is
  replaced, in the plan only, by the equivalent of :mod:`.sanitize`; models are filled as
  their ``__init__`` would fill them;
* a failure is reported as a dotted path (``data.step.actions.0.type``) instead of a bare
  ``KeyError``. The path is assembled only while an error travels up, so it costs nothing
  on the way down.

Deliberately stricter than the stock loader, in two ways, both answered ``400``:

* :data:`REQUIRED`: what handlers of a topic rely on (contract §2, step 7) must be present
  with the right JSON type; the stock loader would put ``None`` in its place;
* where the schema expects an object (``Object`` fields, polymorphic values) or a list
  (``List`` fields), the value must be a JSON object or list, or ``null``. The stock loader
  iterates whatever it gets: ``"alternatives": "hi"`` gives the one-letter texts ``h`` and
  ``i``, a list where an object is expected gives a list of models, a string gives a model
  with default attributes. Handlers would get models of the wrong shape.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Callable, NoReturn, Optional

import lupin
from lupin import fields
from lupin.errors import ValidationError

from clustaar.schemas import v1

from . import events, introspect, sanitize
from .stepcache import StepCache

Path = tuple[str, ...]
#: One compiled step: JSON value in, loaded value out (a data error means "cannot be loaded").
Convert = Callable[[Any], Any]

#: The one mapper for loading and dumping, built once: building it is costly.
MAPPER = v1.get_mapper(factory=lupin.constructor)

#: What handlers of a topic rely on, checked before loading: (dotted path, type).
REQUIRED: dict[str, tuple[tuple[str, type], ...]] = {
    events.CONVERSATION_STEP_REACHED: (
        ("data", dict),
        ("data.step", dict),
        ("data.step.id", str),
        ("data.step.actions", list),
        ("data.session", dict),
        ("data.session.values", dict),
        ("data.interlocutor", dict),
        ("data.interlocutor.id", str),
    ),
}
_TYPE_NAMES: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
_REQUIRED_PATHS = {topic: tuple((tuple(dotted.split(".")), kind) for dotted, kind in checks)
                   for topic, checks in REQUIRED.items()}
_CANNOT_LOAD = "cannot be loaded"
_TOO_MUCH_MARKUP = "has too much markup to sanitise"
#: What the stock processors, fields and models raise on a value of the wrong type or shape.
#: Anything else is a bug, not bad client data: it goes up as it is (a logged 500).
#: (``re.error``: a connection predicate's pattern that does not compile.)
_DATA_ERRORS = (TypeError, ValueError, AttributeError, LookupError, ArithmeticError, re.error,
                ValidationError)
_CONTAINERS = (fields.Object, fields.PolymorphicObject, fields.List, fields.PolymorphicList)


class LoadError(Exception):
    """The notification cannot be loaded; ``path`` names the failing field."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(path, reason)
        self.segments = path
        self.reason = reason

    @property
    def path(self) -> str:
        """The dotted path of the failing field, e.g. ``data.step.actions.0.type``."""
        return ".".join(self.segments)

    def within(self, key: str) -> LoadError:
        """This error seen from one level up: ``key`` is put in front of its path."""
        self.segments = (key,) + self.segments
        return self

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _fail(path: Path, reason: str) -> NoReturn:
    raise LoadError(path, reason)


def _refused(path: Path, error: Exception) -> LoadError:
    """The :class:`LoadError` for a data error a processor or model raised at ``path``."""
    too_much = isinstance(error, sanitize.TooMuchMarkup)
    return LoadError(path, _TOO_MUCH_MARKUP if too_much else _CANNOT_LOAD)


def check_required(data: dict[str, Any]) -> None:
    """Raise :class:`LoadError` for the first field handlers need that is absent or mistyped."""
    for path, kind in _REQUIRED_PATHS.get(data["topic"], ()):
        value: Any = data
        for key in path[:-1]:
            value = value[key]  # Parents were checked first, so they are dicts.
        if path[-1] not in value:
            _fail(path, "is required")
        if not isinstance(value[path[-1]], kind):
            _fail(path, f"must be {_TYPE_NAMES[kind]}")


class NotificationLoader:
    """Loads ``WEBHOOK_REQUEST`` documents as the v1 mapper with the constructor factory does."""

    def __init__(self, mapper: lupin.Mapper = MAPPER) -> None:
        self._load = _Compiler(mapper, cached=(v1.WEBHOOK_STEP,)).schema(v1.WEBHOOK_REQUEST)

    def load(self, data: dict[str, Any]) -> Any:
        """The ``WebhookRequest`` model of ``data``, or :class:`LoadError`."""
        check_required(data)
        sanitize.open_budget()
        try:
            return self._load(data)
        finally:
            sanitize.close_budget()


def compile_plan(schema: lupin.Schema, mapper: lupin.Mapper) -> Convert:
    """A function doing what ``mapper.load(data, schema)`` does, failing with :class:`LoadError`
    (or another exception, for the top-level object's own construction)."""
    return _Compiler(mapper).schema(schema)


class _Compiler:
    """Builds the loading plan of each schema and field, once per schema.

    Plans take the JSON value and return the loaded value; a schema or list plan turns
    ``null`` into ``None`` (as lupin's ``Object`` and ``List`` fields do) and refuses
    any other value that is not a JSON object or list.
    """

    def __init__(self, mapper: lupin.Mapper, cached: tuple[lupin.Schema, ...] = ()) -> None:
        self._mapper = mapper
        self._plans: dict[int, Convert] = {}
        #: Schemas whose documents repeat (a bot's steps): loaded through a StepCache.
        self._cached = {id(schema) for schema in cached}

    def schema(self, schema: lupin.Schema) -> Convert:
        """Plan ``mapper.load(data, schema)``."""
        key = id(schema)  # Schemas are compared by identity, as lupin's mapper does.
        if key not in self._plans:
            # A schema that contains itself finds its plan here once it is built.
            self._plans[key] = lambda data: self._plans[key](data)
            plan = self._build_schema(schema)
            self._plans[key] = StepCache(plan) if key in self._cached else plan
        return self._plans[key]

    def _build_schema(self, schema: lupin.Schema) -> Convert:
        mapper = self._mapper
        kind = type(schema)
        if kind.load_attrs is not lupin.Schema.load_attrs:
            return _object(lambda data: mapper.load(data, schema))  # Its own: run it as it is.
        mapping = mapper.get_schema_mapping(schema)
        cls, factory = mapping.cls, introspect.factory_of(mapping)
        steps = tuple((key, field.binding or key, self.field(field), field.default)
                      for key, field in introspect.fields_of(schema).items() if not field.is_read_only)

        def fill(data: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
            # Schema.load_attrs (without allow_partial); a failure gets its key in front.
            for key, attr, convert, default in steps:
                if key in data:
                    value = data[key]
                    if convert is not None:
                        try:
                            value = convert(value)
                        except LoadError as error:
                            raise error.within(key)
                        except _DATA_ERRORS as error:
                            raise _refused((key,), error) from error
                    attrs[attr] = value
                else:
                    attrs[attr] = default
            return attrs

        if kind.load is not lupin.Schema.load:
            # A schema class with its own load() (clustaar.schemas has two) runs it as
            # written, on a private copy of the schema whose load_attrs is the plan above.
            shadow = copy.copy(schema)
            shadow.load_attrs = lambda data, mapper, allow_partial=False: (
                lupin.Schema.load_attrs(schema, data, mapper, True) if allow_partial
                else fill(data, {}))
            return _object(lambda data: kind.load(shadow, cls, data, mapper, False, factory))
        template = introspect.model_template(cls, factory, [step[1] for step in steps])
        if template is None:
            return _object(lambda data: factory(cls, fill(data, {})))
        new = object.__new__

        def load(data: Any) -> Any:
            # What lupin.constructor and the model's __init__ do, without their checks.
            if not isinstance(data, dict):
                return _not_an_object(data)
            instance = new(cls)
            instance.__dict__.update(fill(data, template.copy()))
            return instance
        return load

    def field(self, field: fields.Field) -> Optional[Convert]:
        """Plan ``field.post_load(field.load(field.pre_load(value), mapper))``; ``None``: as is."""
        if type(field) in _CONTAINERS:
            return self._container(field)
        mapper = self._mapper
        steps: tuple[Callable[[Any], Any], ...] = ()
        if type(field).pre_load is fields.Field.pre_load:
            steps += introspect.processors(introspect.field_processor(field, "pre_load"))
        else:
            steps += (field.pre_load,)
        if type(field).load is not fields.Field.load:  # Field.load returns the value as it is.
            steps += (lambda value: field.load(value, mapper),)
        if type(field).post_load is fields.Field.post_load:
            steps += introspect.processors(introspect.field_processor(field, "post_load"))
        else:
            steps += (field.post_load,)
        return introspect.chain(steps)

    def _container(self, field: Any) -> Convert:
        """Objects and lists: the nested plan, inside the field's own processors if any."""
        if isinstance(field, fields.Object):
            nested = self.schema(introspect.nested_schema(field))
        elif isinstance(field, fields.PolymorphicObject):
            nested = self._polymorphic(field, nullable=True)
        elif isinstance(field, fields.List):
            nested = _items(self.field(field._field))
        else:
            nested = _items(self._polymorphic(field, nullable=False))
        pre = introspect.chain(introspect.processors(introspect.field_processor(field, "pre_load")))
        post = introspect.chain(introspect.processors(introspect.field_processor(field, "post_load")))
        if pre is None and post is None:
            return nested

        def load(value: Any) -> Any:
            if pre is not None:
                value = pre(value)
            value = nested(value)
            return value if post is None else post(value)
        return load

    def _polymorphic(self, field: Any, nullable: bool) -> Convert:
        """Pick the schema named by the value's ``on`` key, as lupin's polymorphic fields do
        (a ``null`` list item has no key: lupin fails on it)."""
        on, default, by_type = introspect.polymorphism(field)
        plans = {name: self.schema(schema) for name, schema in by_type.items()}

        def load(data: Any) -> Any:
            if not isinstance(data, dict):
                if data is None and nullable:
                    return None
                _fail((), "must be an object")
            try:
                plan = plans[data.get(on, default)]
            except (KeyError, TypeError):  # Unknown, or not even hashable.
                _fail((on,), "is not a known type")
            return plan(data)
        return load


def _not_an_object(value: Any) -> None:
    """Where a JSON object is expected: ``None`` for ``null``, else a :class:`LoadError`."""
    if value is not None:
        _fail((), "must be an object")
    return None


def _object(load: Convert) -> Convert:
    """``load`` for JSON objects; ``null`` gives ``None``."""
    def checked(data: Any) -> Any:
        if not isinstance(data, dict):
            return _not_an_object(data)
        return load(data)
    return checked


def _items(convert: Optional[Convert]) -> Convert:
    """Load each item of a JSON list with ``convert``; a failure names the item's index."""
    def load(values: Any) -> Any:
        if not isinstance(values, list):
            if values is None:
                return None
            _fail((), "must be a list")
        if convert is None:
            return list(values)
        loaded = []
        for index, value in enumerate(values):
            try:
                loaded.append(convert(value))
            except LoadError as error:
                raise error.within(str(index))
            except _DATA_ERRORS as error:
                raise _refused((str(index),), error) from error
        return loaded
    return load
