"""Step 8's model dumping, fast: exactly what ``mapper.dump(obj)`` returns, without its walk.

lupin looks each object's mapping up anew, and a polymorphic list first builds the list of
its schemas' mappings for every item (27 for a step's actions). Here:

* every schema the mapper knows is compiled once into a plan, a closure building the dict
  ``Schema.dump`` builds: the fields in schema order, each read as its ``extract_attr``
  reads it (attribute, ``_pre_dump``, ``dump``, ``_post_dump``); a method that a schema or
  field class redefines is called as it is;
* the mapping lupin picks for an object is remembered per type (bounded, safe under
  threads) where the choice depends on the type alone. Objects with ``__lupin_type__``,
  and types that redefine how their class or attributes are read, are looked up every
  time, by a copy of lupin's lookup that fails as it does;
* with ``plain=True`` the dumper also vouches for its output: every value it passes on is
  plain JSON (see :mod:`.plain`), else it raises ``NotPlain``. Such output can go to a fast
  encoder, whose answers on other values (NaN as ``null``, sets as lists) would differ
  from the stdlib's;
* the mapper is only read. Meeting a subclass of a model, lupin registers a copy of the
  model's schema for it (and its class table keeps an entry for every unknown type it
  meets); this dumper dumps with the schema itself, as its copy would.
"""
from __future__ import annotations

import inspect
import threading
from collections.abc import Sequence
from typing import Any, Callable, Optional

import lupin
from lupin import fields
from lupin.errors import MissingMapping, SchemaNotRegistered

from . import introspect
from .loading import MAPPER
from .plain import ATOMS, vet

#: One compiled step: a value in, its dumped value out.
Plan = Callable[[Any], Any]
#: How many types each place that looks mappings up remembers (per dumper, and per
#: polymorphic field): the models a bot returns are a few dozen types.
CACHE_SIZE = 256
#: What a type may define that makes reading its instances' class or attributes run code.
_HOOKS = ("__class__", "__getattribute__", "__getattr__", "__lupin_type__")
_MAPPER_METHODS = ("dump", "get_object_mapping", "get_schema_mapping")
def _plain(kind: type) -> bool:
    """Whether ``isinstance`` gives the same answer for every instance of ``kind`` (against
    a class with the standard check), and ``hasattr`` on them can run no code."""
    return not any(name in vars(base) for base in kind.__mro__[:-1] for name in _HOOKS)


def _static(mapping: lupin.Mapping) -> bool:
    """Whether ``mapping.can_handle(obj)`` depends on ``type(obj)`` alone, for plain types."""
    cls = mapping.cls
    return (type(mapping).can_handle is lupin.Mapping.can_handle and isinstance(cls, type)
            and not any("__instancecheck__" in vars(meta)
                        for meta in inspect.getmro(type(cls)) if meta is not type))


class Dumper:
    """Dumps models, and lists, tuples and sets of them, as ``mapper.dump`` does."""

    def __init__(self, mapper: lupin.Mapper = MAPPER, *, plain: bool = False) -> None:
        if any(getattr(type(mapper), name) is not getattr(lupin.Mapper, name)
               for name in _MAPPER_METHODS):
            raise TypeError("only lupin's own Mapper lookups can be compiled")
        self._mapper = mapper
        self.plain = plain
        # The class table is a defaultdict: read with .get only.
        self._classes, self._mappings = introspect.mapper_tables(mapper)
        self._lock = threading.Lock()
        #: type -> plan, for objects dumped on their own; emptied when a class is registered.
        self._types: dict[type, Plan] = {}
        self._version = len(self._mappings)  # Each registration adds one.
        compiler = _Compiler(self, {})
        for schema in list(self._mappings):
            compiler.schema(schema)
        #: id(schema) -> (schema, plan), for every schema reachable from the mapper's.
        self._known = compiler.plans

    def dump(self, obj: Any) -> Any:
        """``mapper.dump(obj)``: the JSON data of a model, or the list of a collection's."""
        if isinstance(obj, (list, set, tuple)):
            return [self.dump(item) for item in obj]
        return self._object_plan(obj)(obj)

    def _object_plan(self, obj: Any) -> Plan:
        """The plan of the schema of ``mapper.get_object_mapping(obj)``."""
        version = len(self._mappings)
        if version != self._version:
            with self._lock:
                self._types.clear()
                self._version = version
        plan = self._types.get(type(obj))
        if plan is not None and not hasattr(obj, "__lupin_type__"):
            return plan
        mapping, static = self.lookup(obj, None)
        plan = self.plan_of(mapping.schema)
        if static:
            self.remember(self._types, type(obj), plan, version)
        return plan

    def lookup(self, obj: Any, schemas: Optional[Sequence[lupin.Schema]]
               ) -> tuple[lupin.Mapping, bool]:
        """``mapper.get_object_mapping(obj, schemas)`` without registering anything, and
        whether it may be kept for ``type(obj)``: with ``schemas``, only a mapping of one of
        them (lupin tries them before the class); without, one any instance gets that has
        no ``__lupin_type__``."""
        kind = type(obj)
        static = _plain(kind)
        # The structure is lupin's, so that any error is the one lupin raises.
        try:
            obj_type = obj.__lupin_type__ if hasattr(obj, "__lupin_type__") else kind
            if schemas is not None:
                mappings = [self._mappings[schema] for schema in schemas]
                for index, mapping in enumerate(mappings):
                    if mapping.can_handle(obj):
                        return mapping, static and all(map(_static, mappings[:index + 1]))
            static = static and schemas is None and obj_type is kind
            return self._classes.get(obj_type, ())[0], static
        except KeyError as error:  # One of the schemas is not registered.
            raise SchemaNotRegistered(error.args[0].name)
        except IndexError:  # No mapping for the class: the first that handles a parent.
            for type_mappings in list(self._classes.values()):
                for mapping in type_mappings:
                    static = static and _static(mapping)
                    if mapping.can_handle(obj):
                        return mapping, static
        raise MissingMapping(obj_type)

    def plan_of(self, schema: lupin.Schema) -> Plan:
        """The plan of ``schema``: compiled before, or now for a schema registered since."""
        known = self._known.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        return _Compiler(self, self._known).schema(schema)

    def remember(self, cache: dict[type, Plan], kind: type, plan: Plan,
                 version: Optional[int] = None) -> None:
        """Keep ``plan`` for ``kind`` while ``cache`` has room (and, given ``version``, no
        class was registered since the plan was chosen)."""
        with self._lock:
            if len(cache) < CACHE_SIZE and (version is None or version == self._version):
                cache[kind] = plan


class _Compiler:
    """Builds the dump plans of schemas and fields; ``known``: plans built before."""

    def __init__(self, dumper: Dumper, known: dict[int, tuple[lupin.Schema, Plan]]) -> None:
        self._dumper = dumper
        self._mapper = dumper._mapper
        self._known = known
        self._plain = dumper.plain
        self.plans: dict[int, tuple[lupin.Schema, Plan]] = {}
        #: The plans whose output is built by schema plans only: plain already.
        self._structural: set[int] = set()

    def schema(self, schema: lupin.Schema) -> Plan:
        """Plan ``schema.dump(obj, mapper)``."""
        key = id(schema)  # Schemas are compared by identity, as lupin's mapper does.
        for plans in (self._known, self.plans):
            if key in plans:
                return plans[key][1]
        plans = self.plans
        # A schema that contains itself finds its plan here once it is built.
        plans[key] = (schema, lambda obj: plans[key][1](obj))
        plans[key] = (schema, self._build_schema(schema))
        return plans[key][1]

    def _build_schema(self, schema: lupin.Schema) -> Plan:
        mapper = self._mapper
        if type(schema).dump is not lupin.Schema.dump:
            if self._plain:
                return lambda obj: vet(schema.dump(obj, mapper))
            return lambda obj: schema.dump(obj, mapper)
        # Constants go straight into a template of the dict, in field order; the other
        # fields are read in that order and fill their place; nulls to skip are removed.
        template: dict[str, Any] = {}
        reads: list[tuple[str, Optional[str], Optional[Plan]]] = []
        unchecked: list[str] = []  # Keys whose values the plain dumper must vet.
        nullable: list[str] = []
        for key, field in introspect.fields_of(schema).items():
            if field.is_write_only:
                continue
            if type(field).extract_attr is fields.Constant.extract_attr:
                if not (field.is_ignore_if_null and introspect.constant_value(field) is None):
                    template[key] = introspect.constant_value(field)
                    if self._plain:
                        unchecked.append(key)
                continue
            template[key] = None
            name, convert = self._extract(key, field)
            reads.append((key, name, convert))
            if self._plain and id(convert) not in self._structural:
                unchecked.append(key)
            if field.is_ignore_if_null:
                nullable.append(key)
        steps, skipped, vetted = tuple(reads), tuple(nullable), tuple(unchecked)

        def dump(obj: Any) -> dict[str, Any]:
            data = template.copy()
            for key, name, convert in steps:
                if name is None:
                    data[key] = convert(obj)  # type: ignore[misc]  # Never None without a name.
                elif convert is None:
                    data[key] = getattr(obj, name)
                else:
                    data[key] = convert(getattr(obj, name))
            for key in vetted:
                if type(data[key]) not in ATOMS:
                    vet(data[key])
            for key in skipped:
                if data[key] is None:
                    del data[key]
            return data
        return dump

    def _extract(self, key: str, field: fields.Field) -> tuple[Optional[str], Optional[Plan]]:
        """Plan ``field.extract_attr(obj, mapper, key)``: the attribute to read and the plan
        of its value (``None``: as it is), or no attribute and a plan of the object."""
        mapper = self._mapper
        if type(field).extract_attr is not fields.Field.extract_attr:
            return None, lambda obj: field.extract_attr(obj, mapper, key)
        return field.binding or key, self.value(field)

    def value(self, field: fields.Field) -> Optional[Plan]:
        """Plan ``field._post_dump(field.dump(field._pre_dump(value), mapper))``; ``None``
        when that is the value as it is."""
        # A list field's dump makes a new list of any iterable (or keeps None): a bare
        # copy of the items before or after it changes nothing, so it is left out.
        copies = type(field).dump is fields.List.dump
        steps = (self._around(field, copies, "pre"), self._dump(field),
                 self._around(field, copies, "post"))
        # A chain of one step is that step: a structural dump stays known as such.
        return introspect.chain(tuple(step for step in steps if step is not None))

    def _around(self, field: fields.Field, copied: bool, stage: str) -> Optional[Plan]:
        """Plan ``field._pre_dump`` (``stage="pre"``) or ``field._post_dump`` (``"post"``).

        ``copied``: the step next to it makes a new list anyway. A list field runs its own
        processors before its items' on the way in, after them on the way out.
        """
        name = f"_{stage}_dump"
        method = getattr(type(field), name)
        own = introspect.chain(introspect.processors(introspect.field_processor(field, f"{stage}_dump")))
        if method is getattr(fields.Field, name):
            return own
        if method is getattr(fields.List, name):
            inner = self._around(introspect.item_field(field), False, stage)
            each = _each(inner) if inner is not None or not copied else None
            order = (own, each) if stage == "pre" else (each, own)
            return introspect.chain(tuple(step for step in order if step is not None))
        redefined: Plan = getattr(field, name)
        return redefined

    def _dump(self, field: fields.Field) -> Optional[Plan]:
        """Plan ``field.dump(value, mapper)``; ``None`` when it gives the value as it is."""
        plan, structural = self._dump_plan(field)
        if structural:
            self._structural.add(id(plan))
        return plan

    def _dump_plan(self, field: fields.Field) -> tuple[Optional[Plan], bool]:
        """The plan of ``field.dump``, and whether schema plans alone build its output."""
        method = type(field).dump
        if method is fields.Field.dump:
            return None, False
        if method is fields.Object.dump:
            return _nullable(self.schema(introspect.nested_schema(field))), True
        if method is fields.List.dump:
            inner = self._dump(field._field)
            return _each(inner), id(inner) in self._structural
        if method is fields.PolymorphicObject.dump:
            known, pick = self._polymorphic(field)
            return (lambda value: None if value is None else (
                known(type(value)) or pick(value))(value)), True
        if method is fields.PolymorphicList.dump:
            known, pick = self._polymorphic(field)
            return (lambda values: None if values is None else [
                (known(type(item)) or pick(item))(item) for item in values]), True
        mapper = self._mapper
        return lambda value: field.dump(value, mapper), False

    def _polymorphic(self, field: Any) -> tuple[Callable[[type], Optional[Plan]], Plan]:
        """The plans of values of ``field`` as ``mapper.get_object_mapping(value,
        field._schemas)`` picks them: the one kept for a type if any, and how to pick one."""
        dumper, schemas = self._dumper, introspect.dump_schemas(field)
        for schema in schemas:
            self.schema(schema)
        chosen: dict[type, Plan] = {}  # Only choices among the field's schemas: they last.

        def pick(value: Any) -> Plan:
            mapping, static = dumper.lookup(value, schemas)
            plan = dumper.plan_of(mapping.schema)
            if static:
                dumper.remember(chosen, type(value), plan)
            return plan
        return chosen.get, pick


def _nullable(plan: Plan) -> Plan:
    """``plan``, except that ``None`` stays ``None``."""
    return lambda value: None if value is None else plan(value)


def _each(plan: Optional[Plan]) -> Plan:
    """A new list of ``plan`` applied to each item (of a copy, for ``None``); ``None`` stays."""
    if plan is None:
        return lambda values: None if values is None else list(values)
    return lambda values: None if values is None else [plan(item) for item in values]
