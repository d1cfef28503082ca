"""What the loader reads, without changing anything, from lupin and clustaar.schemas objects.

Two shortcuts need to look inside them, and each falls back to the plain call when an
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


def model_template(cls: type, factory: Any, attrs: list[str]) -> Optional[dict[str, None]]:
    """The ``__dict__`` that ``factory(cls, {attrs...})`` starts from, every attribute ``None``
    in the order the model's ``__init__`` sets them; ``None`` when that is not known.

    Known only for ``lupin.constructor`` on a plain clustaar.schemas model, and when the
    model accepts all of ``attrs`` (otherwise its ``__init__`` raises, so it must run).
    """
    init = cls.__dict__.get("__init__")
    if (factory is not lupin.constructor or type(cls) is not type or cls.__bases__ != (object,)
            or getattr(init, "__code__", None) is not _MODEL_INIT
            or "__setattr__" in cls.__dict__ or "__slots__" in cls.__dict__):
        return None
    names = _cell(init, "attr_names")
    if not isinstance(names, (set, frozenset)) or not set(attrs) <= names:
        return None
    return dict.fromkeys(names)
