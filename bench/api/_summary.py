"""From raw timings to the figures the issue asks for, as JSON-ready dicts, and the targets.

Sequential phase (per-call latency, seconds in the raw data, milliseconds in the summary):

* per pipeline: median, p99, mean and best call latency, the upload (PUT + POST) and
  download (two GETs) medians, and calls/s = calls / total time spent in calls;
* added by encryption: ``median(E) - median(B)`` and ``p99(E) - p99(B)`` (the issue's
  "added latency per call, median and p99"), plus the median and p99 of the *paired*
  differences (call i on E minus the same call i on B, run back to back), which cancels
  slow drift even better;
* throughput ratio: calls/s encrypted / calls/s baseline.

Concurrent phase: aggregate upload and download MB/s (10^6 bytes/s) per round, their
median per pipeline and the E/B ratios, errors and intact downloads.

Percentiles interpolate linearly between order statistics (``statistics.quantiles``'
"inclusive" method); p99 of n calls is only as good as n >= 100 makes it.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.api._calls import SequentialResult
from bench.api._concurrent import ConcurrentResult

__all__ = [
    "ADDED_MEDIAN_TARGET_MS",
    "api_targets",
    "percentile",
    "summarise_concurrent",
    "summarise_sequential",
]

ADDED_MEDIAN_TARGET_MS = 10.0
ENC, BASE = "encrypted", "plaintext"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear interpolation; the value itself if n == 1."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _ms(seconds: float) -> float:
    return seconds * 1e3


def _latency(totals: list[float], uploads: list[float], downloads: list[float]) -> dict[str, Any]:
    return {
        "calls": len(totals),
        "median_ms": _ms(statistics.median(totals)),
        "p99_ms": _ms(percentile(totals, 99)),
        "mean_ms": _ms(statistics.fmean(totals)),
        "best_ms": _ms(min(totals)),
        "upload_median_ms": _ms(statistics.median(uploads)),
        "download_median_ms": _ms(statistics.median(downloads)),
        "calls_per_s": len(totals) / sum(totals),
    }


def summarise_sequential(result: SequentialResult) -> dict[str, Any]:
    enc = _latency(result.totals[ENC], result.uploads[ENC], result.downloads[ENC])
    base = _latency(result.totals[BASE], result.uploads[BASE], result.downloads[BASE])
    paired = [e - b for e, b in zip(result.totals[ENC], result.totals[BASE], strict=True)]
    return {
        ENC: enc,
        BASE: base,
        "tls": result.tls,
        "added_median_ms": enc["median_ms"] - base["median_ms"],
        "added_p99_ms": enc["p99_ms"] - base["p99_ms"],
        "added_upload_median_ms": enc["upload_median_ms"] - base["upload_median_ms"],
        "added_download_median_ms": enc["download_median_ms"] - base["download_median_ms"],
        "paired_added_median_ms": _ms(statistics.median(paired)),
        "paired_added_p99_ms": _ms(percentile(paired, 99)),
        "throughput_ratio": enc["calls_per_s"] / base["calls_per_s"],
        "raw_seconds": {
            "totals": result.totals,
            "uploads": result.uploads,
            "downloads": result.downloads,
        },
    }


def _rates(nbytes: int, seconds: list[float]) -> list[float]:
    return [nbytes / s / 1e6 for s in seconds]


def summarise_concurrent(result: ConcurrentResult) -> dict[str, Any]:
    total = result.clients * result.object_bytes
    out: dict[str, Any] = {"clients": result.clients, "object_bytes": result.object_bytes}
    for mode in (ENC, BASE):
        up = _rates(total, result.upload_seconds[mode])
        down = _rates(total, result.download_seconds[mode])
        out[mode] = {
            "rounds": len(up),
            "objects": result.objects[mode],
            "intact": result.intact[mode],
            "errors": len(result.errors[mode]),
            "error_samples": result.errors[mode][:5],
            "upload_mb_per_s": statistics.median(up),
            "download_mb_per_s": statistics.median(down),
            "upload_mb_per_s_rounds": up,
            "download_mb_per_s_rounds": down,
        }
    out["upload_ratio"] = out[ENC]["upload_mb_per_s"] / out[BASE]["upload_mb_per_s"]
    out["download_ratio"] = out[ENC]["download_mb_per_s"] / out[BASE]["download_mb_per_s"]
    return out


def api_targets(api: dict[str, Any]) -> list[dict[str, Any]]:
    """PASS/FAIL lines in ``bench.run``'s target format."""
    seq, conc, stored = api["sequential"], api["concurrent"], api["stored"]
    added = seq["added_median_ms"]
    errors = conc[ENC]["errors"] + conc[BASE]["errors"]
    objects = conc[ENC]["objects"] + conc[BASE]["objects"]
    intact = conc[ENC]["intact"] + conc[BASE]["intact"]
    baseline_ok = stored["plaintext_stored_clear"] and not stored["encrypted_stored_clear"]
    return [
        {
            "name": "API: added latency per 5-minute call (median)",
            "value": added,
            "threshold": ADDED_MEDIAN_TARGET_MS,
            "passed": added < ADDED_MEDIAN_TARGET_MS,
            "text": f"API over HTTPS: encryption adds {added:+.2f} ms median per 5-minute call "
            f"({seq[ENC]['median_ms']:.1f} vs {seq[BASE]['median_ms']:.1f} ms; p99 "
            f"{seq['added_p99_ms']:+.2f} ms; paired median {seq['paired_added_median_ms']:+.2f}"
            f" ms; throughput x{seq['throughput_ratio']:.3f}) "
            f"(target < {ADDED_MEDIAN_TARGET_MS:.0f} ms)",
        },
        {
            "name": "API: concurrent uploads intact",
            "value": errors,
            "threshold": 0,
            "passed": errors == 0 and intact == objects,
            "text": f"API over HTTPS: {conc['clients']} concurrent clients, {objects} uploads "
            f"in both pipelines: {errors} errors, {intact}/{objects} SHA-256 intact on download",
        },
        {
            "name": "API: baseline is really plaintext",
            "value": baseline_ok,
            "threshold": True,
            "passed": baseline_ok,
            "text": "API bench baseline sanity: the plaintext pipeline stored the recording and "
            "transcript in clear, the encrypted one did not "
            f"({'as expected' if baseline_ok else 'NOT as expected: figures are void'})",
        },
    ]
