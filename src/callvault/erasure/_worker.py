"""Due erasures on a timer, for ``serve`` (``[erasure] auto``, every ``check_seconds``).

A daemon thread that calls ``Erasures.run_due`` every interval. A failing round (a KMS
outage, an audit log that cannot take the entry) is logged by error kind and retried at the
next tick; the request it concerned stays ``running`` and is resumed then. Erasure is never
a reason to stop serving. A cron job running ``callvault erasures run-due`` meanwhile is
safe: each request has one executor at a time (``_claim``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from callvault._periodic import PeriodicJob
from callvault.erasure._model import ErasureRequest
from callvault.erasure._service import Erasures
from callvault.errors import CallvaultError

__all__ = ["ErasureWorker"]

log = logging.getLogger("callvault.erasure")


class ErasureWorker(PeriodicJob):
    thread_name = "erasures"

    def __init__(self, erasures: Erasures, interval: timedelta) -> None:
        super().__init__(interval)
        self._erasures = erasures

    def run_once(self) -> list[ErasureRequest]:
        """One round: the requests it finished (none when it failed: see the log)."""
        try:
            done = self._erasures.run_due()
        except (CallvaultError, OSError) as exc:
            log.warning("scheduled erasure round failed: %s", type(exc).__name__)
            return []
        for request in done:
            log.info("erasure %s (%s) done", request.id, request.kind.value)
        return done
