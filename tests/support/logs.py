"""Log records of the requests a test sent, without the apps' start-up records."""
from __future__ import annotations

import logging
from collections.abc import Iterable


def served(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
    """``records`` less the start-up ones (``extra`` field ``startup``)."""
    return [record for record in records if not getattr(record, "startup", False)]
