"""Step 5 of the pipeline: decode the body as strict RFC 8259 JSON with a ``topic``."""
from __future__ import annotations

import json
import math
from typing import Any, NoReturn

import msgspec

from .rejection import bad_request

MAX_DEPTH = 64
#: At most this many objects and lists (counted as ``[`` and ``{``, in strings too: a bound
#: taken before decoding). A realistic notification has about a hundred; decoding many
#: small containers costs far more per byte than anything else (the garbage collector
#: tracks each one), so a body of them would cost more than linear time to refuse.
MAX_CONTAINERS = 10_000
_REFUSED = object()


def _invalid(reason: str) -> NoReturn:
    bad_request(f"The request body is not a valid notification: {reason}.", title="Invalid JSON")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    """A JSON number as a float, unless it overflows to ``inf`` (Infinity by another name)."""
    value = float(text)
    if math.isinf(value):
        raise ValueError("a number is out of range")  # Its text is body content: not echoed.
    return value


def _too_deep(data: Any) -> bool:
    """Whether parsed JSON nests arrays/objects more than :data:`MAX_DEPTH` levels.

    The top level counts as level one. Walking level by level visits only
    containers, and stops as soon as the limit is passed.
    """
    level, depth = [data], 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            return True
        level = [child for value in level
                 for child in (value.values() if type(value) is dict else value)
                 if type(child) is dict or type(child) is list]
    return False


# Built once: json.loads with hooks would build a new decoder for every body.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
#: msgspec's decoder, about twice as fast on a notification. It accepts exactly what the
#: strict decoder accepts, with equal values, except that it refuses a few documents the
#: strict one takes (a lone surrogate escape) or refuses with its own words (an overflow to
#: infinity): any refusal goes to the strict decoder, which decides and says why.
_FAST_DECODE = msgspec.json.Decoder().decode


def _strict(body: bytes, brackets: int) -> Any:
    """The document of ``body`` by the stdlib decoder, or the ``400`` saying why not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        _invalid("it is not UTF-8")
    if brackets > MAX_CONTAINERS:
        _invalid(f"it has more than {MAX_CONTAINERS} objects and lists")
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        _invalid(f"{error.msg} at line {error.lineno}, column {error.colno}")
    except ValueError as error:  # NaN, Infinity, -Infinity, overflow, too many digits
        _invalid(str(error))
    except RecursionError:  # The C parser's own guard, far past our limit.
        _invalid(f"it nests deeper than {MAX_DEPTH} levels")


def parse(body: bytes) -> dict[str, Any]:
    """Return the notification object of ``body`` or answer ``400`` saying why not."""
    # ASCII bytes never occur inside a UTF-8 sequence: counting bytes counts characters.
    brackets = body.count(b"[") + body.count(b"{")
    data: Any = _REFUSED
    if brackets <= MAX_CONTAINERS:
        # Any refusal, however this msgspec words it (0.20 raises UnicodeDecodeError for
        # bad UTF-8, later versions DecodeError): the strict decoder below decides.
        try:
            data = _FAST_DECODE(body)
        except Exception:
            pass
    if data is _REFUSED:
        data = _strict(body, brackets)
    # Too few brackets to be too deep is the common case, and costs no walk.
    if brackets > MAX_DEPTH and _too_deep(data):
        _invalid(f"it nests deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        _invalid("the top level must be an object")
    if not isinstance(data.get("topic"), str):
        _invalid('it has no string "topic"')
    return data
