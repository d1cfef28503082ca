"""Step 5 of the pipeline: decode the body as strict RFC 8259 JSON with a ``topic``."""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any, NoReturn

from .errors import bad_request

MAX_DEPTH = 64

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


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


def _depth(text: str) -> int:
    """Deepest nesting of arrays/objects in ``text``, which must be valid JSON.

    Valid JSON has only terminated strings, so the string pattern runs in
    linear time; on arbitrary bytes it could backtrack quadratically.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # Cheap exit: too few brackets to be too deep.
    steps = map(_STEP.__getitem__, _BRACKETS.findall(_STRINGS.sub("", text)))
    return max(accumulate(steps), default=0)


def parse(body: bytes) -> dict[str, Any]:
    """Return the notification object of ``body`` or answer ``400`` saying why not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        _invalid("it is not UTF-8")
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        _invalid(f"{error.msg} at line {error.lineno}, column {error.colno}")
    except ValueError as error:  # NaN, Infinity, -Infinity, overflow, too many digits
        _invalid(str(error))
    except RecursionError:  # The C parser's own guard, far past our limit.
        _invalid(f"it nests deeper than {MAX_DEPTH} levels")
    if _depth(text) > MAX_DEPTH:
        _invalid(f"it nests deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        _invalid("the top level must be an object")
    if not isinstance(data.get("topic"), str):
        _invalid('it has no string "topic"')
    return data
