"""``PostureJob``: ``serve`` runs a posture round every ``[posture] interval_minutes``.

Like the erasure worker and the rotation timer it is a ``PeriodicJob``; a round never
raises (a failing scanner, linter or a full disk costs one round and is logged, the
listener keeps serving). The first round runs ``first_delay`` after start (default 15 s:
``serve`` starts the job before its listener accepts, and the listener is often one of the
targets; ``[posture] first_delay_seconds``), so a fresh deployment has evidence without
waiting a whole interval.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from callvault._periodic import PeriodicJob
from callvault.config import PostureSettings
from callvault.posture.history import PostureHistory
from callvault.posture.schedule._round import (
    Linter,
    RoundResult,
    Scanner,
    default_linter,
    run_round,
)

__all__ = ["PostureJob"]

log = logging.getLogger("callvault.posture.schedule")


class PostureJob(PeriodicJob):
    thread_name = "posture"

    def __init__(
        self,
        home: Path,
        settings: PostureSettings,
        *,
        interval: timedelta | None = None,
        first_delay: timedelta | None = None,
        scanner: Scanner | None = None,
        linter: Linter = default_linter,
    ) -> None:
        super().__init__(interval or timedelta(minutes=settings.interval_minutes))
        self._home = home
        self._settings = settings
        self._history = PostureHistory(home, keep=settings.history_keep)
        self._scanner = scanner
        self._linter = linter
        self._first_delay = (
            first_delay
            if first_delay is not None
            else timedelta(seconds=settings.first_delay_seconds)
        )
        self.rounds = 0
        self.last: RoundResult | None = None
        self.round_done = threading.Event()
        """Set after each round (tests and the CLI wait on it instead of sleeping)."""

    def _loop(self) -> None:
        if self._stop.wait(self._first_delay.total_seconds()):
            return  # stopped before the first round
        super()._loop()

    def run_once(self) -> RoundResult | None:
        try:
            result = run_round(
                self._home,
                self._settings,
                self._history,
                scanner=self._scanner,
                linter=self._linter,
            )
        except Exception as exc:  # never the thread: the next round may succeed
            log.error("posture round failed: %s", type(exc).__name__)
            result = None
        self.rounds += 1
        self.last = result
        self.round_done.set()
        return result
