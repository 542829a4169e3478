"""The measurement engine: calibrated, interleaved, median-of-N timing with perf_counter.

A *variant* is one thing to time (say "callvault seal_stream of 16 MiB"). Each variant is
calibrated once (that run doubles as its warm-up) to find how many calls make one sample last
at least ``target_seconds``; then all variants of a group are sampled *round-robin*, ``reps``
rounds, so that a slow patch of the machine (another process, a frequency change) hits every
variant of the group instead of skewing one of them. The figure of merit is the median time
per call; the best (minimum) is kept too.

A *ratio* between two variants (a target such as "the stream reaches 0.90 of the bare
cipher") is measured in pairs instead (``measure_ratio``): the two samples of a pair run
back to back, in alternating order, and the figure is the median of the per-pair ratios.
On a shared machine the slow patches last seconds and slow everything in them by up to
half; a ratio of two medians taken over a large group mixes samples from both states
(each variant gets a different share of slow samples), while two samples a few
milliseconds apart almost always share theirs.

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

__all__ = [
    "Measurement",
    "PairedRatio",
    "Variant",
    "measure_group",
    "measure_ratio",
    "settle_allocator",
]

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


@dataclass
class PairedRatio:
    """``reference`` time / ``candidate`` time, one entry per back-to-back pair of samples
    (1.00 = as fast as the reference, 0.50 = half its throughput)."""

    ratios: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def quartiles(self) -> tuple[float, float]:
        """The middle half of the pairs lies between these two ratios."""
        if len(self.ratios) < 2:
            return self.median, self.median
        low, _, high = statistics.quantiles(self.ratios, n=4, method="inclusive")
        return low, high

    def as_json(self) -> dict[str, Any]:
        low, high = self.quartiles
        return {"pairs": len(self.ratios), "median": self.median, "q1": low, "q3": high}


def measure_ratio(
    reference: Variant, candidate: Variant, *, pairs: int, target_seconds: float
) -> PairedRatio:
    """``pairs`` back-to-back samples of both variants, order alternating (the first pair
    runs the reference first), each calibrated to last ``target_seconds``."""
    results = measure_group([reference, candidate], reps=pairs, target_seconds=target_seconds)
    ref, cand = results[reference.name].samples, results[candidate.name].samples
    return PairedRatio([r / c for r, c in zip(ref, cand, strict=True)])


_SETTLE_SIZE = 31 * (1 << 20)


def settle_allocator() -> None:
    """Put glibc's allocator in the state a long-running process reaches, before timing.

    glibc serves a large allocation from fresh pages of its own (``mmap``: every page
    faulted in on first touch, half a millisecond or more per MiB on a VM) until a block
    that large has been freed once; then it raises its threshold to that size and reuses
    warm heap memory. A fresh process is in the first state, one that has handled a few
    large objects in the second, and which one a variant meets depended on what ran before
    it: ``vault.seal`` at 1 MiB took 1.1-1.4 ms per call in five runs without this step
    and 0.3-0.5 ms in five with it. Freeing one block just under the dynamic threshold's
    ceiling (32 MiB) settles every size the bench uses below it; with another allocator
    this is one allocation and nothing more.
    """
    block = bytearray(_SETTLE_SIZE)
    del block
