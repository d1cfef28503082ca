"""Plain JSON: the values every JSON encoder writes alike, and the check that a value is one.

Fast encoders disagree with the stdlib's on everything else (msgspec writes NaN as
``null`` and a set as a list, where the stdlib refuses both): only values that pass
:func:`vet` may go to one.
"""
from __future__ import annotations

from typing import Any

#: The leaves every JSON encoder writes alike.
ATOMS = frozenset((str, int, bool, type(None)))


class NotPlain(TypeError):
    """A value is not plain JSON (see :func:`vet`)."""


def vet(value: Any) -> Any:
    """``value`` itself when it is plain JSON; else :class:`NotPlain`."""
    kind = type(value)
    if kind in ATOMS:
        return value
    if kind is float:
        if value - value != 0.0:  # NaN and the infinities (inf - inf is NaN).
            raise NotPlain
    elif kind is list or kind is tuple:
        for item in value:
            if type(item) not in ATOMS:
                vet(item)
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise NotPlain
            if type(item) not in ATOMS:
                vet(item)
    else:
        raise NotPlain
    return value
