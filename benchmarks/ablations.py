"""What each speed-up of the loading and rendering path buys: ours with one of them undone.

``python -m benchmarks original`` serves, beside our ``Webhook``, one more ``Webhook`` per
entry of :data:`ABLATIONS`, on the same bodies in the same rounds, with that one idea
switched off while its batches run (a patch of the module that holds it, undone after
each batch). The ratio "without it ÷ with everything" is the idea's before/after figure.
Answers are compared with everyone else's, so an ablation that changed an answer would
fail the run.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Callable

import msgspec

from clustaar.webhook import payload, rendering, sanitize, stepcache


class _Everything:
    """A container holding every type: the renderer then leaves every result to the stdlib."""

    def __contains__(self, item: object) -> bool:
        return True


def _refuse(body: bytes) -> Any:
    raise msgspec.DecodeError("ablation: the stdlib decoder decides")


def _uncached(cache: stepcache.StepCache, data: Any) -> Any:
    return cache._load(data)


def _walked(value: Any) -> Callable[[], Any]:
    kept = stepcache.clone(value)
    return lambda: stepcache.clone(kept)


#: name -> (what is undone, the module attribute patched, what replaces it).
ABLATIONS: dict[str, tuple[str, Any, str, Any]] = {
    "msgspec-decode": ("msgspec decoding (the stdlib decoder instead)",
                      payload, "_FAST_DECODE", _refuse),
    "msgspec-encode": ("vetted plain dump + msgspec encoding (the stdlib encoder instead)",
                      rendering, "_NATIVE", _Everything()),
    "step-cache": ("the cache of loaded steps (every step loaded)",
                      stepcache.StepCache, "__call__", _uncached),
    "step-copiers": ("generated step copiers (copies walked instead)",
                      stepcache, "copier", _walked),
    "typed-markup": ("typed markup worked out (bleach parses it)",
                     sanitize, "_typed_markup", lambda text: None),
}


@contextlib.contextmanager
def without(name: str) -> Iterator[None]:
    """Undo the idea ``name`` of :data:`ABLATIONS` for the duration of the block."""
    _, owner, attribute, replacement = ABLATIONS[name]
    kept = getattr(owner, attribute)
    setattr(owner, attribute, replacement)
    try:
        yield
    finally:
        setattr(owner, attribute, kept)
