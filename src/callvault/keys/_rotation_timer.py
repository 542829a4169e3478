"""Rotation on a timer, for ``serve`` with ``[rotation] auto = true``.

A daemon thread that, every ``interval``, rotates the overdue master keys
(``rotate_due``) and runs any extra rotations it was given (the JWT signing key's
``rotate_if_due``). A failing round is logged and retried at the next tick: rotation is
never a reason to stop serving, and a KMS outage must not kill the thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from callvault._periodic import PeriodicJob
from callvault.errors import CallvaultError
from callvault.keys._cadence import Cadence, rotate_due
from callvault.keys.providers._base import KeyDescription, KmsProvider

__all__ = ["RotationTimer"]

log = logging.getLogger("callvault.keys.rotation")


class RotationTimer(PeriodicJob):
    thread_name = "key-rotation"

    def __init__(
        self,
        provider: KmsProvider,
        cadence: Cadence,
        interval: timedelta,
        *,
        on_rotated: Callable[[KeyDescription], None] = lambda _key: None,
        extra: Sequence[Callable[[], bool]] = (),
    ) -> None:
        super().__init__(interval)
        self._provider, self._cadence = provider, cadence
        self._on_rotated, self._extra = on_rotated, tuple(extra)

    def run_once(self) -> list[str]:
        """One round; returns what was rotated (key ids, and ``extra[i]`` for extras)."""
        done: list[str] = []
        try:
            done += [
                k.key_id
                for k in rotate_due(self._provider, self._cadence, rotated=self._on_rotated)
            ]
            done += [f"extra[{i}]" for i, rotate in enumerate(self._extra) if rotate()]
        except CallvaultError as exc:  # e.g. the KMS is down: next tick
            log.warning("scheduled rotation failed: %s", type(exc).__name__)
        for name in done:
            log.info("rotated %s on schedule", name)
        return done
