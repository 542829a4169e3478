"""The paired ratio behind the streaming target: each ratio comes from two samples taken
back to back, the order alternating, and the figure is their median.

The variants here report their own "seconds" (``Variant.run`` may return the time that
counts), so the arithmetic is checked exactly and nothing depends on this machine's speed.
"""

from __future__ import annotations

import pytest
from bench._timing import PairedRatio, Variant, measure_ratio


def _counted(name: str, per_call: list[float], order: list[str]) -> Variant:
    """A variant whose n calls "take" n * the next figure of ``per_call`` (cycling)."""
    state = {"i": 0}

    def run(n: int) -> float:
        order.append(name)
        seconds = per_call[state["i"] % len(per_call)]
        state["i"] += 1
        return n * seconds

    return Variant(name, run)


def test_pairs_run_back_to_back_in_alternating_order() -> None:
    order: list[str] = []
    ratio = measure_ratio(
        _counted("ref", [3e-3], order),
        _counted("cand", [1e-3], order),
        pairs=5,
        target_seconds=1e-3,
    )
    assert ratio.ratios == pytest.approx([3.0] * 5)
    sampled = order[-10:]  # after one calibration sample each
    assert [tuple(sampled[i : i + 2]) for i in range(0, 10, 2)] == [
        ("ref", "cand"),
        ("cand", "ref"),
        ("ref", "cand"),
        ("cand", "ref"),
        ("ref", "cand"),
    ]


def test_the_figure_is_the_median_of_the_pair_ratios_not_a_ratio_of_medians() -> None:
    """The pairs say 1, 1, 3, 3, 1 and the figure is their median, 1; the ratio of the two
    variants' medians (3 ms against 1 ms) would say 3."""
    order: list[str] = []
    # Calibration takes the first figure of each list; then one figure per pair.
    ref = _counted("ref", [1e-3, 1e-3, 1e-3, 3e-3, 3e-3, 3e-3], order)
    cand = _counted("cand", [1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 3e-3], order)
    ratio = measure_ratio(ref, cand, pairs=5, target_seconds=1e-3)
    assert ratio.ratios == pytest.approx([1.0, 1.0, 3.0, 3.0, 1.0])
    assert ratio.median == pytest.approx(1.0)


def test_median_and_middle_half() -> None:
    paired = PairedRatio([0.5, 1.1, 0.9, 1.0, 1.2])
    assert paired.median == 1.0
    assert paired.quartiles == pytest.approx((0.9, 1.1))
    assert paired.as_json() == {"pairs": 5, "median": 1.0, "q1": 0.9, "q3": pytest.approx(1.1)}
    assert PairedRatio([0.95]).quartiles == (0.95, 0.95)
