"""The measurement engine: calibrated, interleaved, median-of-N timing with perf_counter.

A *variant* is one thing to time (say "callvault seal_stream of 16 MiB"). Each variant is
calibrated once (that run doubles as its warm-up) to find how many calls make one sample last
at least ``target_seconds``; then all variants of a group are sampled *round-robin*, ``reps``
rounds, so that a slow patch of the machine (another process, a frequency change) hits every
variant of the group instead of skewing one of them. The figure of merit is the median time
per call; the best (minimum) is kept too.

The untimed ``prepare`` step builds whatever one sample's calls consume (fresh BytesIO
objects, offsets), so allocation of inputs is never inside the timed region; the timed
``run`` step may return its own measured total (seconds) when only part of it must count
(for example: clear the key cache, then time only the unwrap).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Measurement", "Variant", "measure_group"]

_MAX_NUMBER = 1_000_000


@dataclass(frozen=True)
class Variant:
    """``prepare(number)`` → inputs for ``number`` calls (untimed); ``run(inputs)`` makes the
    ``number`` calls (timed); ``run`` may return the seconds that count, else wall time."""

    name: str
    run: Callable[[Any], float | None]
    prepare: Callable[[int], Any] = field(default=lambda number: number)


@dataclass
class Measurement:
    name: str
    number: int  # calls per sample
    samples: list[float]  # seconds per call, one entry per sample

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def spread(self) -> float:
        """Relative spread of the samples: (max - min) / median."""
        return (max(self.samples) - min(self.samples)) / self.median if self.median else 0.0

    def as_json(self, nbytes: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "calls_per_sample": self.number,
            "samples": len(self.samples),
            "median_s": self.median,
            "best_s": self.best,
            "median_us": self.median * 1e6,
            "ops_per_s": 1.0 / self.median if self.median else None,
            "spread": self.spread,
        }
        if nbytes is not None:
            out["mib_per_s"] = mib_per_s(nbytes, self.median)
            out["best_mib_per_s"] = mib_per_s(nbytes, self.best)
        return out


def mib_per_s(nbytes: int, seconds: float) -> float:
    return nbytes / (1 << 20) / seconds if seconds > 0 else math.inf


def _sample(variant: Variant, number: int) -> float:
    """Seconds per call for one sample of ``number`` calls (garbage collector paused)."""
    inputs = variant.prepare(number)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        counted = variant.run(inputs)
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    del inputs
    if counted is not None:
        elapsed = counted
    return elapsed / number


def _calibrate(variant: Variant, target_seconds: float, max_number: int) -> int:
    """Calls per sample so that one sample lasts >= target_seconds (first call = warm-up)."""
    per_call = _sample(variant, 1)
    number = 1
    for _ in range(3):
        if per_call * number >= target_seconds or number >= max_number:
            break
        number = min(max_number, max(number + 1, math.ceil(target_seconds / max(per_call, 1e-9))))
        per_call = _sample(variant, number)
    return number


def measure_group(
    variants: Sequence[Variant],
    *,
    reps: int,
    target_seconds: float,
    max_number: int = _MAX_NUMBER,
) -> dict[str, Measurement]:
    """Calibrate every variant, then take ``reps`` samples of each, round-robin."""
    numbers = {v.name: _calibrate(v, target_seconds, max_number) for v in variants}
    samples: dict[str, list[float]] = {v.name: [] for v in variants}
    order = list(variants)
    for rep in range(reps):
        # Rotate the order each round so no variant always runs right after the same one.
        shift = rep % len(order)
        for variant in order[shift:] + order[:shift]:
            samples[variant.name].append(_sample(variant, numbers[variant.name]))
    return {v.name: Measurement(v.name, numbers[v.name], samples[v.name]) for v in variants}
