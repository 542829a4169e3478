"""``PeriodicJob``: a daemon thread that runs one round every interval until stopped.

``serve`` runs its housekeeping this way (key rotation, due erasures). A round must never
raise: subclasses catch and log their own failures so that an outage of the KMS or the
audit log costs one round, never the thread.
"""

from __future__ import annotations

import threading
from datetime import timedelta

__all__ = ["PeriodicJob"]


class PeriodicJob:
    thread_name = "periodic"

    def __init__(self, interval: timedelta) -> None:
        if interval <= timedelta(0):
            raise ValueError("the interval of a periodic job must be positive")
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval.total_seconds())
