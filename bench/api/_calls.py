"""Sequential calls, timed from the client: the per-call latency of each pipeline.

One *call* is what a voice-AI platform does at the end of a call and later reads back:
``PUT`` the recording (subject = caller), ``POST`` the transcript, then ``GET`` both. The
time of the four requests on a warm keep-alive connection is the call's latency; the
upload (PUT + POST) and download (two GETs) halves are kept too. Checks happen after the
clock stops: the recording's SHA-256 and every transcript field must come back as sent,
or the run fails.

The pipelines are interleaved call by call, the order swapped every call (E, B, B, E, ...),
with the *same* call content for both, so drift on the machine (other jobs, frequency
changes, a growing SQLite file) lands on both equally. Garbage collection is paused in the
timed region, as ``timeit`` does.
"""

from __future__ import annotations

import gc
import hashlib
import time
from dataclasses import dataclass, field

import httpx

from bench.api._servers import TENANT, Endpoint
from bench.api._workload import Call, make_call

__all__ = ["CallFailed", "SequentialResult", "callers", "run_sequential", "timed_call"]

_OCTETS = {"content-type": "application/octet-stream"}
_JSON = {"content-type": "application/json"}


class CallFailed(AssertionError):
    """A request failed or data did not come back intact (the benchmark is then void)."""


def callers(count: int) -> list[str]:
    """A fixed pool of E.164 callers (each one's subject key is made during warm-up)."""
    return [f"+1555{n:07d}" for n in range(count)]


@dataclass(frozen=True)
class CallTiming:
    total: float
    upload: float
    download: float


@dataclass
class SequentialResult:
    totals: dict[str, list[float]] = field(default_factory=dict)
    uploads: dict[str, list[float]] = field(default_factory=dict)
    downloads: dict[str, list[float]] = field(default_factory=dict)
    tls: dict[str, str] = field(default_factory=dict)  # negotiated "TLSv1.3 <suite>"

    def add(self, mode: str, timing: CallTiming) -> None:
        self.totals.setdefault(mode, []).append(timing.total)
        self.uploads.setdefault(mode, []).append(timing.upload)
        self.downloads.setdefault(mode, []).append(timing.download)


def _expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise CallFailed(f"{what}: HTTP {response.status_code} {response.text[:200]}")


def timed_call(client: httpx.Client, call: Call) -> CallTiming:
    """Run one call on ``client`` (timed), then verify it (untimed)."""
    recording = f"/v1/tenants/{TENANT}/recordings/{call.id}"
    transcripts = f"/v1/tenants/{TENANT}/transcripts"
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        put = client.put(
            recording, params={"subject": call.caller}, content=call.audio, headers=_OCTETS
        )
        _expect(put, 201, "PUT recording")
        post = client.post(transcripts, content=call.transcript_json, headers=_JSON)
        _expect(post, 201, "POST transcript")
        t1 = time.perf_counter()
        got_audio = client.get(recording)
        _expect(got_audio, 200, "GET recording")
        got_text = client.get(f"{transcripts}/{post.json()['id']}")
        _expect(got_text, 200, "GET transcript")
        t2 = time.perf_counter()
    finally:
        if gc_was_enabled:
            gc.enable()
    if hashlib.sha256(got_audio.content).hexdigest() != call.audio_sha256:
        raise CallFailed(f"recording {call.id}: SHA-256 differs after the round trip")
    if not call.transcript_matches(got_text.json()):
        raise CallFailed(f"transcript of {call.id} differs after the round trip")
    return CallTiming(t2 - t0, t1 - t0, t2 - t1)


def _negotiated(client: httpx.Client) -> str:
    response = client.get("/.well-known/jwks.json")
    ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
    cipher = ssl_object.cipher() if ssl_object is not None else None
    return f"{ssl_object.version()} {cipher[0]}" if cipher else "unknown"


def run_sequential(
    endpoints: dict[str, Endpoint], calls: int, warmup: int, caller_pool: int
) -> SequentialResult:
    """``warmup`` + ``calls`` calls per pipeline, interleaved; only ``calls`` are kept."""
    pool = callers(caller_pool)
    result = SequentialResult()
    clients = {mode: endpoint.client() for mode, endpoint in endpoints.items()}
    try:
        for mode, client in clients.items():
            result.tls[mode] = _negotiated(client)
        modes = list(clients)
        for number in range(warmup + calls):
            call = make_call(number, pool[number % len(pool)])
            order = modes if number % 2 == 0 else modes[::-1]
            for mode in order:
                timing = timed_call(clients[mode], call)
                if number >= warmup:
                    result.add(mode, timing)
    finally:
        for client in clients.values():
            client.close()
    return result
