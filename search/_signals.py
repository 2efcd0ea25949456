"""Stopping a run on a signal: Ctrl+C (SIGINT) or SIGTERM sets the run's stop event, so that
the runner stops its trials and re-queues them; a second one raises KeyboardInterrupt at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["install_stop_signals"]


def install_stop_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGINT and SIGTERM set `stop` (a second one raises KeyboardInterrupt); return the
    call that puts the previous handlers back. Outside the main thread (where Python allows
    no handler) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second Ctrl+C: stop at once
            raise KeyboardInterrupt
        stop.set()

    for s in previous:
        signal.signal(s, handler)

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore
