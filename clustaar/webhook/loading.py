"""Step 7 of the pipeline: load the notification into ``clustaar.schemas`` models.

The walk mirrors ``v1.get_mapper(factory=lupin.constructor).load(data,
v1.WEBHOOK_REQUEST)`` field by field, so handlers get the same models, but it
keeps the JSON path it is at: a failure is reported as a dotted path such as
``data.step.actions.0.type`` instead of a bare ``KeyError``.
"""
from __future__ import annotations

from typing import Any, NoReturn

import lupin
from clustaar.schemas import v1
from lupin import fields

from . import events

Path = tuple[str, ...]

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


class LoadError(Exception):
    """The notification cannot be loaded; ``path`` names the failing field."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{'.'.join(path)}: {reason}")
        self.path = ".".join(path)
        self.reason = reason


def _fail(path: Path, reason: str) -> NoReturn:
    raise LoadError(path, reason)


def check_required(data: dict[str, Any]) -> None:
    """Raise :class:`LoadError` for the first field handlers need that is absent or mistyped."""
    for dotted, kind in REQUIRED.get(data["topic"], ()):
        *parents, name = dotted.split(".")
        value: Any = data
        for key in parents:
            value = value[key]  # Parents were checked first, so they are dicts.
        if name not in value:
            _fail(tuple(dotted.split(".")), "is required")
        if not isinstance(value[name], kind):
            _fail(tuple(dotted.split(".")), f"must be {_TYPE_NAMES[kind]}")


class NotificationLoader:
    """Loads ``WEBHOOK_REQUEST`` documents with the v1 mapper and the constructor factory."""

    def __init__(self, mapper: lupin.Mapper = MAPPER) -> None:
        self._mapper = mapper

    def load(self, data: dict[str, Any]) -> Any:
        """The ``WebhookRequest`` model of ``data``, or :class:`LoadError`."""
        check_required(data)
        return self._object(v1.WEBHOOK_REQUEST, data, ())

    def _object(self, schema: lupin.Schema, data: Any, path: Path) -> Any:
        if type(schema) is not lupin.Schema:
            # A schema with its own load() (clustaar.schemas has a few): let it run.
            return self._guarded(lambda: self._mapper.load(data, schema), path)
        if not isinstance(data, dict):
            _fail(path, "must be an object")
        attrs = {}
        for key, field in schema._fields.items():
            if field.is_read_only:
                continue
            if key in data:
                value = self._field(field, data[key], path + (key,))
            else:
                value = field.default
            attrs[field.binding or key] = value
        cls = self._mapper.get_schema_mapping(schema).cls
        return self._guarded(lambda: lupin.constructor(cls, attrs), path)

    def _field(self, field: fields.Field, raw: Any, path: Path) -> Any:
        if isinstance(field, (fields.Object, fields.PolymorphicObject, fields.List,
                              fields.PolymorphicList)):
            value = self._guarded(lambda: field._pre_load_processor(raw), path)
            if value is not None:
                value = self._nested(field, value, path)
            return self._guarded(lambda: field._post_load_processor(value), path)
        return self._guarded(
            lambda: field.post_load(field.load(field.pre_load(raw), self._mapper)), path)

    def _nested(self, field: fields.Field, value: Any, path: Path) -> Any:
        if isinstance(field, fields.Object):
            return self._object(field._schema, value, path)
        if isinstance(field, fields.PolymorphicObject):
            return self._polymorphic(field, value, path)
        if not isinstance(value, list):
            _fail(path, "must be a list")
        if isinstance(field, fields.PolymorphicList):
            return [self._polymorphic(field, item, path + (str(index),))
                    for index, item in enumerate(value)]
        return [self._field(field._field, item, path + (str(index),))
                for index, item in enumerate(value)]

    def _polymorphic(self, field: Any, value: Any, path: Path) -> Any:
        if not isinstance(value, dict):
            _fail(path, "must be an object")
        kind = value.get(field._on, field._default_type)
        schema = field._schemas_by_json_value.get(kind) if isinstance(kind, str) else None
        if schema is None:
            _fail(path + (field._on,), "is not a known type")
        return self._object(schema, value, path)

    @staticmethod
    def _guarded(step: Any, path: Path) -> Any:
        """Run one loading step, turning any failure into a :class:`LoadError` at ``path``."""
        try:
            return step()
        except LoadError:
            raise
        except Exception as error:
            raise LoadError(path, "cannot be loaded") from error
