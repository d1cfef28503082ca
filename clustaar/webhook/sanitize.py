"""A fast stand-in for ``clustaar.schemas.processors.html_sanitize``, with the same results.

The stock processor calls ``bleach.clean``, which builds a new ``Cleaner`` (an
html5lib parser, walker and serializer) for every string, then parses it. Here:

* text without ``& < >`` and without the control characters bleach rewrites is
  returned as it is, unparsed: bleach gives such text back unchanged (checked for
  every BMP code point, alone and between letters, when this was written; the
  differential tests check a sample of code points and generated text);
* other text goes through one ``Cleaner`` per thread (a Cleaner is not
  thread-safe), built with the very ``tags``/``attributes`` objects the stock
  processor passes, behind a bounded LRU cache keyed on the text: a step's
  action texts are the same on every request.

Nothing global is changed: clustaar.schemas, lupin and bleach keep working as before
for any other code in the process. (The cache assumes nobody edits clustaar.schemas'
allowed tags and attributes at run time; nothing does.)
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from bleach.sanitizer import Cleaner

from clustaar.schemas import processors

#: At most this many cleaned texts are kept, each at most MAX_CACHED_LENGTH characters
#: long: bounded memory (about 30 MiB in the worst case of long non-Latin text full of
#: quoted attributes; typical action texts keep it well under 1 MiB).
CACHE_SIZE = 512
MAX_CACHED_LENGTH = 2048

#: Characters that make bleach change a text: markup and entities, and the controls it
#: replaces (NUL dropped, CR folded into LF, the others turned into "?"). Tab and LF are kept.
_CHANGED_BY_BLEACH = re.compile(r"[\x00-\x08\x0b-\x1f&<>]")


class _ThreadCleaner(threading.local):
    """One bleach Cleaner per thread, built on the thread's first use."""

    def __init__(self) -> None:
        # The same arguments as the stock processor's bleach.clean call (other
        # arguments keep bleach's defaults in both).
        self.cleaner = Cleaner(tags=processors.SANE_TAGS, attributes=processors.ALLOWED_ATTRIBUTES)


_local = _ThreadCleaner()


def _clean(text: Any) -> Any:
    """What the stock processor returns for a truthy value (``TypeError`` for non-text)."""
    return _local.cleaner.clean(text).replace("&amp;", "&")


#: Thread-safe (functools' C implementation locks its own structure).
_cached_clean = lru_cache(maxsize=CACHE_SIZE)(_clean)


def html_sanitize(value: Any) -> Any:
    """Same result as ``clustaar.schemas.processors.html_sanitize(value)``, or the same error."""
    if not value:
        return value  # The stock processor leaves falsy values ("", 0, None...) alone.
    if type(value) is str:
        if not _CHANGED_BY_BLEACH.search(value):
            return value
        if len(value) <= MAX_CACHED_LENGTH:
            return _cached_clean(value)
    return _clean(value)


def cache_info() -> Any:
    """Hits, misses and size of the cleaned-text cache (for benchmarks and tests)."""
    return _cached_clean.cache_info()


#: Stock processors and the stand-ins the loader runs instead. ``strip`` and
#: ``unicode_normalize`` are single C-level calls already and are kept as they are.
FAST_PROCESSORS: dict[Any, Any] = {processors.html_sanitize: html_sanitize}
