"""Concurrent uploads: N clients, each on its own TLS connection, upload distinct 5-minute
recordings at once; then all download them at once and every SHA-256 is checked.

Each client is its own ``httpx.AsyncClient`` (one keep-alive connection, its own TLS
session), connected *before* the clock starts, so the figure is the data path, not N
handshakes. The aggregate rate is (N x 2.4 MB) / (wall time from the first request to the
last response), in MB/s (10^6 bytes). Rounds alternate the pipeline order (E, B, B, E...)
and use fresh recording ids; the same recordings go to both pipelines.

Nothing is retried: any exception, any status other than 201/200, any digest mismatch
counts as an error, and the benchmark reports the count (the target is zero).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field

import httpx

from bench.api._calls import callers
from bench.api._servers import TENANT, Endpoint
from bench.api._workload import Call, make_call

__all__ = ["ConcurrentResult", "run_concurrent"]

_OCTETS = {"content-type": "application/octet-stream"}


@dataclass
class ConcurrentResult:
    clients: int
    object_bytes: int
    upload_seconds: dict[str, list[float]] = field(default_factory=dict)
    download_seconds: dict[str, list[float]] = field(default_factory=dict)
    objects: dict[str, int] = field(default_factory=dict)  # uploaded and checked
    errors: dict[str, list[str]] = field(default_factory=dict)
    intact: dict[str, int] = field(default_factory=dict)  # downloads whose SHA-256 matched


async def _put(client: httpx.AsyncClient, call: Call) -> str | None:
    try:
        response = await client.put(
            f"/v1/tenants/{TENANT}/recordings/{call.id}",
            params={"subject": call.caller},
            content=call.audio,
            headers=_OCTETS,
        )
    except httpx.HTTPError as exc:
        return f"PUT {call.id}: {type(exc).__name__}: {exc}"
    return None if response.status_code == 201 else f"PUT {call.id}: {response.status_code}"


async def _get(client: httpx.AsyncClient, call: Call) -> str | None:
    """``None`` if the download is the uploaded object, byte for byte (by SHA-256)."""
    try:
        response = await client.get(f"/v1/tenants/{TENANT}/recordings/{call.id}")
    except httpx.HTTPError as exc:
        return f"GET {call.id}: {type(exc).__name__}: {exc}"
    if response.status_code != 200:
        return f"GET {call.id}: {response.status_code}"
    if hashlib.sha256(response.content).hexdigest() != call.audio_sha256:
        return f"GET {call.id}: SHA-256 mismatch"
    return None


async def _round(endpoint: Endpoint, calls: list[Call], result: ConcurrentResult) -> None:
    mode = endpoint.mode
    clients = [endpoint.async_client() for _ in calls]
    try:
        await asyncio.gather(*(c.get("/.well-known/jwks.json") for c in clients))  # connect
        t0 = time.perf_counter()
        pairs = list(zip(clients, calls, strict=True))
        put_errors = await asyncio.gather(*(_put(c, call) for c, call in pairs))
        t1 = time.perf_counter()
        get_errors = await asyncio.gather(*(_get(c, call) for c, call in pairs))
        t2 = time.perf_counter()
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    errors = [e for e in (*put_errors, *get_errors) if e is not None]
    result.upload_seconds.setdefault(mode, []).append(t1 - t0)
    result.download_seconds.setdefault(mode, []).append(t2 - t1)
    result.objects[mode] = result.objects.get(mode, 0) + len(calls)
    result.intact[mode] = result.intact.get(mode, 0) + sum(e is None for e in get_errors)
    result.errors.setdefault(mode, []).extend(errors)


async def _run(
    endpoints: dict[str, Endpoint], clients: int, rounds: int, caller_pool: int
) -> ConcurrentResult:
    pool = callers(caller_pool)
    modes = list(endpoints)
    result = ConcurrentResult(clients, 0)
    for number in range(rounds):
        calls = [
            make_call(1_000_000 + number * clients + k, pool[k % len(pool)], prefix=f"conc{number}")
            for k in range(clients)
        ]
        result.object_bytes = len(calls[0].audio)
        for mode in modes if number % 2 == 0 else modes[::-1]:
            await _round(endpoints[mode], calls, result)
    return result


def run_concurrent(
    endpoints: dict[str, Endpoint], clients: int, rounds: int, caller_pool: int
) -> ConcurrentResult:
    """``rounds`` rounds of ``clients`` concurrent uploads then downloads, per pipeline.
    Callers cycle through the sequential phase's pool: their subject keys exist by then,
    and that phase's calls warmed both servers up."""
    return asyncio.run(_run(endpoints, clients, rounds, caller_pool))
