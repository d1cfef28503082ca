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

bleach's cost is not bounded by the size of its input in any useful way: about 40 µs per
call, 1 to 5 µs per character, and its tree builder walks the stack of open elements at
every list tag (``<ul>``, ``<ol>``, ``<li>``), so nested lists cost quadratic time. Hence a
**markup budget** per notification, charged before bleach sees a text and refusing it
(:class:`TooMuchMarkup`) when it would be exceeded:

* a text with more than :data:`MAX_TAGS_PER_TEXT` ``<`` is refused (the stack of open
  elements cannot be deeper than the number of ``<``, so this bounds the quadratic term);
* each text that needs bleach is charged its length plus :data:`CALL_COST`; all of them
  together may spend :data:`NOTIFICATION_BUDGET`.

The charge does not depend on the cache, so a notification is accepted or refused the same
way by every worker. Texts that bleach leaves alone (no markup) are free: they are never
handed to it.
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any, Optional

from bleach.sanitizer import Cleaner

from clustaar.schemas import processors

#: At most this many cleaned texts are kept, each at most MAX_CACHED_LENGTH characters
#: long: bounded memory (about 30 MiB in the worst case of long non-Latin text full of
#: quoted attributes; typical action texts keep it well under 1 MiB).
CACHE_SIZE = 512
MAX_CACHED_LENGTH = 2048

#: At most this many ``<`` in one text handed to bleach (realistic texts carry a dozen).
MAX_TAGS_PER_TEXT = 200
#: What one call to bleach is charged on top of the text's length (its fixed cost, ~40 µs,
#: is that of a dozen markup characters).
CALL_COST = 16
#: What all the texts of one notification may be charged: a realistic 13 KB notification
#: with 30 actions spends about 3,500; at bleach's worst rate (~5 µs a character) the whole
#: budget is about 80 ms of CPU.
NOTIFICATION_BUDGET = 16384

#: Characters that make bleach change a text: markup and entities, and the controls it
#: replaces (NUL dropped, CR folded into LF, the others turned into "?"). Tab and LF are kept.
_CHANGED_BY_BLEACH = re.compile(r"[\x00-\x08\x0b-\x1f&<>]")


class TooMuchMarkup(ValueError):
    """A text would cost more to sanitise than the notification's markup budget allows."""


class _Budget(threading.local):
    """What the notification being loaded on this thread may still spend on bleach;
    ``None`` outside a notification, where :func:`html_sanitize` is exactly the stock one."""

    def __init__(self) -> None:
        self.left: Optional[int] = None


_budget = _Budget()


def open_budget() -> None:
    """Give the notification about to be loaded on this thread its whole markup budget."""
    _budget.left = NOTIFICATION_BUDGET


def close_budget() -> None:
    """End the budget of the notification loaded on this thread."""
    _budget.left = None


def left() -> Optional[int]:
    """What the notification loading on this thread may still spend (``None``: no budget)."""
    return _budget.left


def spend(cost: int) -> bool:
    """Spend ``cost`` at once if the budget can pay it all (as charging each text that cost
    it would); ``False``, spending nothing, if not."""
    remaining = _budget.left
    if remaining is None:
        return True
    if remaining - cost < 0:
        return False
    _budget.left = remaining - cost
    return True


def _charge(text: str) -> None:
    """Spend the cost of sanitising ``text``, or raise :class:`TooMuchMarkup`."""
    left = _budget.left
    if left is None:
        return
    left -= len(text) + CALL_COST
    if left < 0 or text.count("<") > MAX_TAGS_PER_TEXT:
        raise TooMuchMarkup
    _budget.left = left


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


#: Markup people type, which bleach's answer can be worked out for without parsing: an
#: allowed formatting tag without attributes, ``<br>``, a ``<`` that opens no tag (``<3``),
#: ``>``, ``&amp;``, and an ``&`` that starts no character reference.
_TYPED = re.compile(r"</?(?:b|i|em|strong|code)>|<br>|&amp;|[<>&]")
_TAG_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!/?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _typed_markup(text: str) -> Optional[str]:
    """What the stock processor makes of ``text`` if its only markup is typed markup (see
    :data:`_TYPED`), with the tags properly nested and closed; else ``None``.

    bleach keeps such tags as they are and escapes the rest: ``<`` and ``>`` as entities,
    ``&`` as ``&amp;``, which the stock processor turns back into ``&``.
    """
    if _CONTROLS.search(text):
        return None
    pieces, open_tags, start = [], [], 0
    for match in _TYPED.finditer(text):
        token, at, end = match.group(), match.start(), match.end()
        pieces.append(text[start:at])
        start = end
        if token == "&amp;":
            pieces.append("&")  # bleach keeps the reference; the processor unescapes it.
        elif token == "&":
            if end < len(text) and text[end] not in " \t\n":
                return None  # Perhaps a character reference: bleach decides.
            pieces.append("&")
        elif token == ">":
            pieces.append("&gt;")
        elif token == "<":
            if end < len(text) and text[end] in _TAG_START:
                return None  # A tag, comment or declaration: bleach parses it.
            pieces.append("&lt;")
        else:
            if token != "<br>":
                name = token.strip("</>")
                if token[1] != "/":
                    if name in open_tags:
                        return None  # Nested in itself: the parser's rules get subtle.
                    open_tags.append(name)
                elif not open_tags or open_tags.pop() != name:
                    return None
            pieces.append(token)
    if open_tags:
        return None  # bleach would close them.
    pieces.append(text[start:])
    return "".join(pieces)


def html_sanitize(value: Any) -> Any:
    """Same result as ``clustaar.schemas.processors.html_sanitize(value)``, or the same error;
    while a notification loads, :class:`TooMuchMarkup` instead of sanitising past its budget."""
    if not value:
        return value  # The stock processor leaves falsy values ("", 0, None...) alone.
    if type(value) is str:  # What JSON gives; anything else goes to bleach as stock does.
        if not _CHANGED_BY_BLEACH.search(value):
            return value
        _charge(value)  # Whoever does the work: the budget decides alike.
        typed = _typed_markup(value)
        if typed is not None:
            return typed
        if len(value) <= MAX_CACHED_LENGTH:
            return _cached_clean(value)
    return _clean(value)


def cache_info() -> Any:
    """Hits, misses and size of the cleaned-text cache (for benchmarks and tests)."""
    return _cached_clean.cache_info()


#: Stock processors and the stand-ins the loader runs instead. ``strip`` and
#: ``unicode_normalize`` are single C-level calls already and are kept as they are.
FAST_PROCESSORS: dict[Any, Any] = {processors.html_sanitize: html_sanitize}
