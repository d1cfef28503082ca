"""The one place that reads lupin's and clustaar.schemas' private attributes (the loader
and the dumper compile their schemas through the accessors below), without changing them.

:func:`check` runs at import: if the installed versions keep these internals elsewhere,
importing clustaar.webhook fails at once with a message naming the versions, rather than
a request failing later.

Two shortcuts also look inside functions, and each falls back to the plain call when an
object is not exactly what was expected, so a different lupin or clustaar.schemas still
loads correctly, only slower:

* the processors lupin's ``Field`` chains (kept in the closure ``_make_processor`` returns),
  so the loader can run them directly and swap in the fast ``html_sanitize``;
* the attribute names of clustaar.schemas models (kept in the closure of the ``__init__``
  that ``models.model()`` generates), so the loader can fill a model's ``__dict__`` exactly
  as that ``__init__`` would, without its per-call checks.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import lupin
from lupin.processors import null_processor

from clustaar.schemas import models

from .sanitize import FAST_PROCESSORS

Processor = Callable[[Any], Any]

#: The private attributes read, by the lupin class that has them.
_INTERNALS: dict[str, tuple[str, ...]] = {
    "Schema": ("_fields",),
    "SchemaMapping": ("_factory",),
    "Field": ("_pre_load_processor", "_post_load_processor", "_pre_dump_processor",
              "_post_dump_processor", "_pre_dump", "_post_dump"),
    "Object": ("_schema",),
    "List": ("_field",),
    "Constant": ("_value",),
    "PolymorphicObject": ("_on", "_default_type", "_schemas_by_json_value", "_schemas"),
    "Mapper": ("_classes_to_mappings", "_schemas_to_mapping"),
}


def fields_of(schema: Any) -> dict[str, Any]:
    """A schema's fields by JSON key, in declaration order."""
    return schema._fields  # type: ignore[no-any-return]


def factory_of(mapping: Any) -> Any:
    """The object factory a schema mapping builds models with."""
    return mapping._factory


def field_processor(field: Any, stage: str) -> Processor:
    """A field's processor for ``stage``: ``pre_load``, ``post_load``, ``pre_dump``,
    ``post_dump``."""
    return getattr(field, f"_{stage}_processor")  # type: ignore[no-any-return]


def nested_schema(field: Any) -> Any:
    """The schema of an ``Object`` field."""
    return field._schema


def item_field(field: Any) -> Any:
    """The field of a ``List`` field's items."""
    return field._field


def constant_value(field: Any) -> Any:
    """The value of a ``Constant`` field."""
    return field._value


def polymorphism(field: Any) -> tuple[str, Any, dict[Any, Any]]:
    """A polymorphic field's type key, its default type and the schema for each type."""
    return field._on, field._default_type, field._schemas_by_json_value


def dump_schemas(field: Any) -> tuple[Any, ...]:
    """The schemas a polymorphic field may dump with, in order."""
    return tuple(field._schemas)


def mapper_tables(mapper: Any) -> tuple[Any, Any]:
    """A mapper's class -> mappings and schema -> mapping tables (read only)."""
    return mapper._classes_to_mappings, mapper._schemas_to_mapping


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version
    found = []
    for name in ("lupin", "clustaar.schemas"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (version unknown)")
    return ", ".join(found)


def check() -> None:
    """Raise ``ImportError`` unless the installed lupin keeps the internals read here."""
    from lupin import fields

    from clustaar.schemas import v1

    mapper = v1.get_mapper(factory=lupin.constructor)
    samples: dict[str, Any] = {
        "Schema": v1.WEBHOOK_REQUEST, "Mapper": mapper,
        "SchemaMapping": mapper.get_schema_mapping(v1.WEBHOOK_REQUEST),
        "Field": fields.String(), "Object": fields.Object(v1.WEBHOOK_REQUEST),
        "List": fields.List(fields.String()), "Constant": fields.Constant("x"),
        "PolymorphicObject": fields.PolymorphicObject(on="type", schemas={}),
    }
    missing = [f"{kind}.{name}" for kind, names in _INTERNALS.items() for name in names
               if not hasattr(samples[kind], name)]
    if missing:
        raise ImportError(f"clustaar.webhook reads internals that {_versions()} does not "
                          f"have ({', '.join(missing)}); it needs lupin 2.0 and "
                          "clustaar.schemas 1.10")


check()

#: The code every ``models.model()`` constructor shares.
_MODEL_INIT = models.WebhookRequest.__init__.__code__


def _cell(function: Any, name: str) -> Any:
    """The value ``function``'s closure holds for the free variable ``name``, or ``None``."""
    code = getattr(function, "__code__", None)
    closure = getattr(function, "__closure__", None)
    if code is None or closure is None or name not in code.co_freevars:
        return None
    return closure[code.co_freevars.index(name)].cell_contents


def processors(processor: Processor) -> tuple[Processor, ...]:
    """The processors ``processor`` (built by lupin's ``_make_processor``) runs, in order,
    with the fast equivalents swapped in; an unknown function is kept as it is."""
    if processor is null_processor:
        return ()
    chained = _cell(processor, "processors")
    if not isinstance(chained, (list, tuple)):
        chained = (processor,)
    return tuple(FAST_PROCESSORS.get(step, step) for step in chained)


def chain(steps: tuple[Processor, ...]) -> Optional[Processor]:
    """One function running ``steps`` in order, or ``None`` when there is nothing to run."""
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]

    def run(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value
    return run


#: Classes already judged by :func:`plain_model` (a few dozen model classes).
_PLAIN_MODELS: dict[type, bool] = {}


def plain_model(cls: type) -> bool:
    """Whether ``cls`` is a plain clustaar.schemas model: its instances are their
    ``__dict__``, set by the shared generated ``__init__`` and nothing else."""
    known = _PLAIN_MODELS.get(cls)
    if known is None:
        init = cls.__dict__.get("__init__")
        known = (type(cls) is type and cls.__bases__ == (object,)
                 and getattr(init, "__code__", None) is _MODEL_INIT
                 and "__setattr__" not in cls.__dict__ and "__slots__" not in cls.__dict__)
        if len(_PLAIN_MODELS) < 1024:
            _PLAIN_MODELS[cls] = known
    return known


def model_template(cls: type, factory: Any, attrs: list[str]) -> Optional[dict[str, None]]:
    """The ``__dict__`` that ``factory(cls, {attrs...})`` starts from, every attribute ``None``
    in the order the model's ``__init__`` sets them; ``None`` when that is not known.

    Known only for ``lupin.constructor`` on a plain clustaar.schemas model, and when the
    model accepts all of ``attrs`` (otherwise its ``__init__`` raises, so it must run).
    """
    if factory is not lupin.constructor or not plain_model(cls):
        return None
    names = _cell(cls.__dict__["__init__"], "attr_names")
    if not isinstance(names, (set, frozenset)) or not set(attrs) <= names:
        return None
    return dict.fromkeys(names)
