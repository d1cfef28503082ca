"""Work run in several threads at once, its first error raised in the test."""
from __future__ import annotations

import threading
from typing import Callable


def in_threads(work: Callable[[int], None], count: int = 4, timeout: float = 60) -> None:
    """Run ``work(0)`` to ``work(count - 1)`` in as many threads at once; raise the first error."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(number: int) -> None:
        try:
            start.wait(timeout)
            work(number)
        except BaseException as error:  # Raised below, never lost in the thread.
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
