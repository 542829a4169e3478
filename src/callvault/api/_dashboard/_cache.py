"""``OverviewCache``: one posture collection shared by every dashboard request for a while.

Collecting the facts opens the home, lists every key and verifies the whole audit log
(a read of every entry and every checkpoint signature): far too much to do per page
load, and a bearer of an auditor token could otherwise make the server do it in a loop.
So the overview is computed at most once per ``ttl`` seconds per app, in a worker thread
(the event loop keeps serving), and concurrent requests that find it stale wait for the
one computation in progress rather than starting their own (single flight, under a
lock). A failed collection is not cached: the next request tries again, and the error
leaves as the API's usual JSON error.

``clock`` is the posture's "now" (rotation, expiry and grace are judged against it);
``monotonic`` times the cache. Both are injectable so tests need no sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import anyio.to_thread

from callvault.api._dashboard._models import PostureOverview
from callvault.api._dashboard._overview import build_overview
from callvault.posture.facts import PostureFacts, collect_facts
from callvault.posture.history import PostureHistory

__all__ = ["DEFAULT_CACHE_SECONDS", "OverviewCache"]

DEFAULT_CACHE_SECONDS = 30.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OverviewCache:
    def __init__(
        self,
        home: Path,
        profile: str,
        *,
        ttl: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0:
            raise ValueError("the overview cache time cannot be negative")
        self.home = home
        self.profile = profile
        self.ttl = ttl
        self.collections = 0
        """How many times the facts were actually collected (for tests and metrics)."""
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: tuple[PostureFacts, PostureOverview] | None = None
        self._taken = 0.0

    async def get(self) -> PostureOverview:
        """The cached overview if younger than ``ttl``, else a fresh one (off the loop)."""
        return (await self.snapshot())[1]

    async def snapshot(self) -> tuple[PostureFacts, PostureOverview]:
        """The facts and the overview built from them: the posture document rendered from
        these facts says exactly what the dashboard shows."""
        return await anyio.to_thread.run_sync(self._get)

    def _get(self) -> tuple[PostureFacts, PostureOverview]:
        with self._lock:
            if self._value is not None and self._monotonic() - self._taken < self.ttl:
                return self._value
            value = self._collect()
            self._value, self._taken = value, self._monotonic()
            return value

    def _collect(self) -> tuple[PostureFacts, PostureOverview]:
        self.collections += 1
        facts = collect_facts(self.home, now=self._clock())
        scans = PostureHistory(self.home).latest("scan")
        return facts, build_overview(facts, scans, self.profile, self.ttl)
