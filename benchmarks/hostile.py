"""Hostile notification bodies for ``python -m benchmarks adversarial``.

Each body is built to be as slow as possible for one stage that runs before the handler
(JSON decoding, the depth check, loading, HTML sanitising), and is at most ``size`` bytes:
the default body limit unless a case says otherwise. ``variant`` changes every text without
changing the size, so repeated requests never find a text in the cleaned-text cache; texts
within one body are distinct for the same reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from clustaar.schemas import processors, v1
from lupin import fields

from clustaar.webhook.config import DEFAULT_MAX_BODY_SIZE
from clustaar.webhook.payload import MAX_DEPTH

from .bodies import STEP_ID, every_sanitised_field

LIMIT = DEFAULT_MAX_BODY_SIZE
KB = 1024
#: One number's digits: just under and just over Python's default int parsing limit.
INT_DIGITS = 4299
Build = Callable[[int, int], bytes]  # (units, variant) -> body


def encode(data: Any) -> bytes:
    """``data`` as the platform sends it (compact UTF-8 JSON)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def notification(actions: list[Any], variant: int, values: Optional[dict[str, Any]] = None,
                 **extra: Any) -> dict[str, Any]:
    """A minimal valid ``conversation.step_reached`` notification around ``actions``."""
    data: dict[str, Any] = {
        "botID": "5c1b7a0e1a2b3c4d5e6f7a70", "timestamp": 1795867200,
        "topic": "conversation.step_reached",
        "data": {"type": "step_reached_event", "channel": "web",
                 "interlocutor": {"id": f"{variant:024x}"},
                 "session": {"values": values or {}},
                 "step": {"id": STEP_ID, "name": "Étape", "userData": "{}", "actions": actions}}}
    data.update(extra)
    return data


def say(*alternatives: str) -> dict[str, Any]:
    """A ``send_text_action``: its alternatives are sanitised."""
    return {"type": "send_text_action", "alternatives": list(alternatives)}


# -- Which strings the loader sanitises, found by walking the v1 schemas along the data. --

def _chained(processor: Any) -> list[Any]:
    """The processors a lupin field processor runs (lupin keeps them in a closure)."""
    code, closure = getattr(processor, "__code__", None), getattr(processor, "__closure__", None)
    if code is not None and closure and "processors" in code.co_freevars:
        return list(closure[code.co_freevars.index("processors")].cell_contents)
    return [processor]


def is_sanitised(leaf: Any) -> bool:
    """Whether ``leaf``'s processors run ``clustaar.schemas.processors.html_sanitize``."""
    return processors.html_sanitize in (_chained(leaf._pre_load_processor)
                                        + _chained(leaf._post_load_processor))


Found = list[tuple[tuple[str, ...], Any, Any]]  # (path, container, key or index)


def _walk(schema: Any, value: Any, path: tuple[str, ...], found: Found) -> None:
    if not isinstance(value, dict):
        return
    for key, child in schema._fields.items():
        if key in value:
            _walk_field(child, value, key, path + (key,), found)


def _walk_field(child: Any, container: Any, key: Any, path: tuple[str, ...], found: Found) -> None:
    value = container[key]
    if isinstance(child, fields.Object):
        _walk(child._schema, value, path, found)
    elif isinstance(child, (fields.PolymorphicObject, fields.PolymorphicList)):
        items = value if isinstance(child, fields.PolymorphicList) else [value]
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                schema = child._schemas_by_json_value.get(item.get(child._on, child._default_type))
                item_path = path + (str(index),) if items is value else path
                if schema is not None:
                    _walk(schema, item, item_path, found)
    elif isinstance(child, fields.List):
        for index in range(len(value) if isinstance(value, list) else 0):
            _walk_field(child._field, value, index, path + (str(index),), found)
    elif isinstance(value, str) and is_sanitised(child):
        found.append((path, container, key))


def sanitised_places(data: dict[str, Any]) -> Found:
    """Every string of ``data`` the loader sanitises: its path, container and key."""
    found: Found = []
    _walk(v1.WEBHOOK_REQUEST, data, (), found)
    return found


def sanitised_texts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Every string of ``data`` the loader sanitises, with its dotted path."""
    return [(".".join(path), container[key]) for path, container, key in sanitised_places(data)]


# -- The builders: (units, variant) -> body; the runner picks the units to fill the size. --

def one_text(unit: str, tail: str = "") -> Build:
    """One ``send_text_action`` whose one alternative is ``unit`` repeated, then ``tail``."""
    return lambda units, variant: encode(notification(
        [say(f"{variant:04x}" + unit * units + tail)], variant))


def every_field(unit: str, text_bytes: int) -> Build:
    """Actions of every kind, every sanitised string of them (and of the interlocutor and the
    message) a distinct text of ``unit`` repeated to about ``text_bytes``."""
    template = every_sanitised_field(0)["data"]["step"]["actions"]
    text = unit * max(1, (text_bytes - 10) // len(unit))

    def build(units: int, variant: int) -> bytes:
        data = every_sanitised_field(0)  # The variant is in the texts: the size stays the same.
        data["data"]["session"]["values"] = {}
        copies = -(-units // len(template))
        data["data"]["step"]["actions"] = json.loads(json.dumps(template * copies))[:units]
        for number, (_, container, key) in enumerate(sanitised_places(data)):
            container[key] = f"{variant:04x}{number:06x}{text}"
        return encode(data)
    return build


def short_texts(units: int, variant: int) -> bytes:
    """One action with ``units`` distinct short texts, each with markup (``"<%x"``)."""
    # Fixed width: every variant has the same size (and no text of one is in another).
    return encode(notification([say(*(f"<{variant:03x}{i:05x}" for i in range(units)))],
                               variant))


def letters(units: int, variant: int) -> bytes:
    """One action with ``units`` one-letter texts: the loader's cost per text, no markup."""
    return encode(notification([say(*("abcdefghijklmnop"[variant % 16] * units))], variant))


def _raw_values(members: str, variant: int) -> bytes:
    """A notification whose session values are the JSON object members ``members``, as
    written (numbers Python would not print as they are)."""
    body = encode(notification([say("ok")], variant, {"x": 1}))
    return body.replace(b'{"x":1}', b"{" + members.encode() + b"}", 1)


def deep_branches(extra: int) -> Build:
    """Session values holding many branches exactly as deep as the limit allows (they start
    at level 5), and, with ``extra``, one branch that many levels deeper at the very end."""
    def branch(depth: int) -> str:
        return "[" * depth + "]" * depth

    def build(units: int, variant: int) -> bytes:
        members = ",".join(f'"{variant:02x}{i:06x}":' + branch(MAX_DEPTH - 4) for i in range(units))
        if extra:
            members += ',"zz":' + branch(MAX_DEPTH - 4 + extra)
        return _raw_values(members, variant)
    return build


def very_deep(units: int, variant: int) -> bytes:
    """``units`` nested arrays as the notification's data (refused by the decoder)."""
    head = b'{"topic":"conversation.step_reached","v":%d,"data":' % (variant % 10)
    return head + b"[" * units + b"]" * units + b"}"


def pauses(units: int, variant: int) -> bytes:
    """``units`` tiny actions the loader walks and builds a model for."""
    return encode(notification([{"type": "pause_bot_action"}] * units, variant))


def empty_lists(units: int, variant: int) -> bytes:
    """``units`` empty lists under a key the loader ignores (the decoder and depth check see
    them)."""
    return encode(notification([say("ok")], variant, padding=[[]] * units))


def empty_objects(units: int, variant: int) -> bytes:
    """``units`` empty objects in a list in the session values (passed on as they are)."""
    return encode(notification([say("ok")], variant, {"objects": [{}] * units}))


def integers(over: bool) -> Build:
    """Session values of many integers just under the digit limit; with ``over``, one just
    past it at the very end (refused by the decoder, after all the others were parsed)."""
    def build(units: int, variant: int) -> bytes:
        values = ",".join(f'"{variant:02x}{i:05x}":' + str(1 + (i + variant) % 9) * INT_DIGITS
                          for i in range(units))
        if over:
            values += ',"zz":' + "7" * (INT_DIGITS + 2)
        return _raw_values(values, variant)
    return build


def floats(units: int, variant: int) -> bytes:
    """Session values of many floats with 4,000-digit mantissas (exact rounding is costly)."""
    digits = "14285714" * 500
    return _raw_values(",".join(f'"{variant:02x}{i:05x}":0.{digits}{i % 10}e-300'
                                for i in range(units)), variant)


@dataclass
class Hostile:
    """One adversarial body: how to build it and the size it fills."""

    name: str
    build: Build
    size: int = LIMIT
    #: One unit past ``size``: the body limit refuses it (413) before reading it.
    over: bool = False
    _units: Optional[int] = field(default=None, repr=False)

    def body(self, variant: int = 0) -> bytes:
        """The body of request number ``variant``."""
        if self._units is None:
            self._units = fit(self.build, self.size) + (1 if self.over else 0)
        body = self.build(self._units, variant)
        if len(body) > self.size and not self.over:
            raise ValueError(f"{self.name}: variant {variant} is {len(body)} bytes")
        return body


def fit(build: Build, size: int) -> int:
    """The largest number of units whose body is at most ``size`` bytes (affine steps)."""
    def length(units: int) -> int:
        return len(build(units, 0))

    base, probe = length(0), 64
    per_unit = (length(probe) - base) / probe
    units = max(0, int((size - base) / per_unit))
    for _ in range(8):
        got = length(units)
        if 0 <= size - got < per_unit:
            break
        units = max(0, units + int((size - got) // per_unit))
    while units and length(units) > size:
        units -= 1
    return units


NESTED_UL = "nested <ul>, one text"
HOSTILE = [
    *(Hostile(NESTED_UL, one_text("<ul>"), size) for size in (4 * KB, 16 * KB, 64 * KB, 256 * KB)),
    Hostile(NESTED_UL, one_text("<ul>")),
    Hostile("nested <ol><li>, 1 KB in every sanitised field", every_field("<ol><li>", KB)),
    Hostile('distinct short texts "<%x"', short_texts),
    Hostile("allowed tags+attributes, one text", one_text(
        '<p><b>gras</b> <a href="https://exemple.fr/aide" title="Aide">lien</a></p>')),
    Hostile("allowed tags+attributes, 1 KB in every field", every_field(
        '<b>gras</b> <a href="https://exemple.fr/aide" title="Aide">lien</a> ', KB)),
    Hostile("closed lists <ul><li>x</li></ul>, one text", one_text("<ul><li>x</li></ul>")),
    Hostile("nested <blockquote><b><i> (no list)", one_text("<blockquote><b><i>")),
    Hostile("control characters \\u0001, one text", one_text("\x01")),
    Hostile("plain text and one '<', one text", one_text("texte ", tail="<")),
    *(Hostile(f"JSON {MAX_DEPTH} levels deep, many branches", deep_branches(0), size)
      for size in (256 * KB, LIMIT)),
    Hostile(f"JSON {MAX_DEPTH + 1} levels, after many of {MAX_DEPTH}", deep_branches(1)),
    Hostile("JSON nested 500,000+ levels deep", very_deep),
    Hostile("pause_bot_action actions", pauses),
    Hostile("one-letter texts", letters),
    *(Hostile("[] in a key the loader ignores", empty_lists, size) for size in (256 * KB, LIMIT)),
    Hostile("{} in the session values", empty_objects),
    Hostile(f"{INT_DIGITS:,}-digit integers", integers(over=False)),
    Hostile(f"{INT_DIGITS + 2:,}-digit integer after many", integers(over=True)),
    Hostile("floats with 4,000-digit mantissas", floats),
    Hostile(NESTED_UL + ", 1 unit over the limit", one_text("<ul>"), over=True),
]
