"""Stopping within a bound: the first SIGINT or SIGTERM lets the work in flight finish, for at
most ``[run] stop_timeout``; a second one, or the bound passing, abandons it.

Abandoning is safe because a sync is one transaction: a process that exits in the middle of
one leaves nothing of it (the database rolls the transaction back) and the next start syncs
the source again. The process then ends with ``os._exit``: a thread waiting on a provider
that does not answer cannot be stopped from outside, and a normal exit would wait for it.

The handlers only note the signal, and the main thread reads the note between short sleeps:
a handler that did more (print, log, set an ``Event`` whose lock the interrupted main thread
holds) could deadlock or interleave with what it interrupted.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import NoReturn

__all__ = ["POLL", "Signals", "exit_now", "wait_until"]

#: How often the main thread looks at the signals noted and the work in flight, in seconds:
#: a second signal ends the process within this.
POLL = 0.1


class Signals:
    """SIGINT and SIGTERM, noted while in the ``with`` block (in the main thread; elsewhere,
    where Python allows no handler, none is noted)."""

    def __init__(self) -> None:
        #: The signals received, in order.
        self.received: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _note(self, signum: int, _frame: object) -> None:
        self.received.append(signum)

    @property
    def forced(self) -> bool:
        """A second signal came: stop at once."""
        return len(self.received) > 1

    @property
    def name(self) -> str:
        """The last signal's name (``SIGTERM``), for log lines."""
        return signal.Signals(self.received[-1]).name if self.received else "a stop request"

    @property
    def exit_code(self) -> int:
        """What a shell reports for a process the last signal ended: 128 + its number."""
        return 128 + self.received[-1] if self.received else 1


def wait_until(done: Callable[[], bool], signals: Signals, timeout: float) -> bool:
    """Wait until ``done()``, for at most ``timeout`` seconds and only until a second signal;
    whether ``done()`` came true."""
    deadline = time.monotonic() + timeout
    while not done():
        if signals.forced or time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True


def exit_now(code: int) -> NoReturn:
    """End the process at once, whatever its other threads are doing; what was written to
    stdout, stderr and the log is flushed first."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
