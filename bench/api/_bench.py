"""The API benchmark end to end: plans, the two servers, both phases, the storage check.

``bench_api(workdir, quick)`` starts the encrypted and the plaintext-baseline servers
(``_servers``), runs the sequential per-call phase (``_calls``) and the concurrent phase
(``_concurrent``), then checks what each pipeline really wrote to its object and record
stores (the baseline must hold the recording and transcript in clear and the encrypted
pipeline must not), and returns the summary (``_summary``) as one JSON-ready dict.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.api._calls import callers, run_sequential
from bench.api._concurrent import run_concurrent
from bench.api._servers import TENANT, Endpoint, running_servers
from bench.api._summary import BASE, ENC, summarise_concurrent, summarise_sequential
from bench.api._workload import MARKER, make_call
from callvault import DataClass
from callvault.api import OBJECTS_DIR
from callvault.storage.objects import LocalObjectStore, object_key

__all__ = ["API_FULL", "API_QUICK", "ApiPlan", "bench_api"]


@dataclass(frozen=True)
class ApiPlan:
    name: str
    calls: int  # timed calls per pipeline (sequential phase)
    warmup: int  # untimed calls per pipeline first; >= caller_pool
    caller_pool: int  # distinct callers (subject keys) the calls cycle through
    clients: int  # concurrent clients
    rounds: int  # concurrent rounds per pipeline (the sequential phase warmed up)


API_FULL = ApiPlan("full", calls=120, warmup=8, caller_pool=8, clients=32, rounds=3)
API_QUICK = ApiPlan("quick", calls=3, warmup=1, caller_pool=1, clients=4, rounds=1)


def _stored_objects(endpoint: Endpoint, call_id: str) -> bytes:
    store = LocalObjectStore(endpoint.home / OBJECTS_DIR)
    return b"".join(store.get_stream(object_key(TENANT, DataClass.RECORDING, call_id)))


def _records_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.glob("records.db*")) if p.is_file())


def check_storage(endpoints: dict[str, Endpoint]) -> dict[str, bool]:
    """Whether each pipeline stored call 0's recording and transcript in clear."""
    call = make_call(0, callers(1)[0])
    window = call.audio[4096:4160]  # 64 bytes of audio: in clear iff stored in clear
    marker = MARKER.encode()
    clear = {}
    for mode, endpoint in endpoints.items():
        raw = _stored_objects(endpoint, call.id)
        clear[mode] = (
            (raw == call.audio, window in raw),
            marker in _records_bytes(endpoint.home),
        )
    return {
        "plaintext_stored_clear": clear[BASE][0][0] and clear[BASE][1],
        "encrypted_stored_clear": any(clear[ENC][0]) or clear[ENC][1],
    }


def bench_api(workdir: Path, quick: bool = False) -> dict[str, Any]:
    plan = API_QUICK if quick else API_FULL
    started = time.perf_counter()
    with running_servers(workdir, (ENC, BASE)) as endpoints:
        ready = time.perf_counter()
        sequential = run_sequential(endpoints, plan.calls, plan.warmup, plan.caller_pool)
        seq_done = time.perf_counter()
        concurrent = run_concurrent(endpoints, plan.clients, plan.rounds, plan.caller_pool)
        conc_done = time.perf_counter()
        stored = check_storage(endpoints)
    return {
        "plan": asdict(plan),
        "call": {
            "recording_bytes": len(make_call(0, callers(1)[0]).audio),
            "transcript_bytes": len(make_call(0, callers(1)[0]).transcript_json),
            "requests": "PUT recording (?subject=caller), POST transcript, GET both",
        },
        "sequential": summarise_sequential(sequential),
        "concurrent": summarise_concurrent(concurrent),
        "stored": stored,
        "phase_seconds": {
            "startup": ready - started,
            "sequential": seq_done - ready,
            "concurrent": conc_done - seq_done,
        },
        "seconds": time.perf_counter() - started,
    }
