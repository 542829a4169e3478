"""keyd over mTLS: the cost of a new connection, and of a remote unwrap vs in-process.

keyd runs as its own process (``callvault keyd`` on 127.0.0.1, local KMS, the default
policy), as in a deployment, so client and server do not share a GIL. Measured in the
same run, per call with ``perf_counter``, reported as median and p99:

* **handshake**: a fresh TCP connection plus the full TLS 1.3 mTLS handshake (ECDHE, both
  certificates, both ECDSA P-256 signatures) plus the client's ``PeerVerifier`` check of
  keyd's SPIFFE ID; keyd issues no session tickets, so every new connection pays this.
  The TCP connect alone is measured alongside as its floor.
* **unwrap**: ``RemoteKms.unwrap`` on a kept-alive pooled connection (JSON, base64, one
  HTTP/1.1 round trip, keyd's per-request ``PeerVerifier`` check, policy, the provider's
  unwrap and keyd's **durable audit append**, an fsync) against the **baseline**, the same
  unwrap by the bare local provider in this process. The ratio is remote / in-process.
* **first request**: a new connection's handshake plus one unwrap (what a client pays
  without keep-alive).

The api keeps unwrapped keys in its ``KeyCache``, so most opens never reach keyd; these
figures are the cold-cache cost.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from callvault import Environment, Vault
from callvault.keys.providers import LocalKms, resolve_root_key
from callvault.keys.providers._remote import RemoteKms
from callvault.keys.providers._remote_settings import RemoteSettings
from callvault.transport import TlsProfile, client_context
from callvault.transport.ca import InternalCa, PeerVerifier

__all__ = ["KEYD_FULL", "KEYD_QUICK", "KeydPlan", "bench_keyd", "keyd_targets"]

UNWRAP_MEDIAN_TARGET_MS = 10.0
"""Generous on purpose (an fsync per call is inside): it catches a lost keep-alive or a
handshake per request, not a slow disk."""
KEY_ID = "dev/acme/default"
CALLVAULT = str(Path(sys.executable).with_name("callvault"))


@dataclass(frozen=True)
class KeydPlan:
    name: str
    handshakes: int
    unwraps: int


KEYD_FULL = KeydPlan("full", 400, 2000)
KEYD_QUICK = KeydPlan("quick", 60, 200)


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "calls": len(samples),
        "median_ms": statistics.median(ordered) * 1e3,
        "p99_ms": p99 * 1e3,
    }


def _timed(n: int, call: Callable[[], object]) -> list[float]:
    call()  # warm-up, not counted
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def _start_keyd(home: Path) -> tuple[subprocess.Popen[bytes], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLVAULT_")}
    proc = subprocess.Popen(
        [CALLVAULT, "keyd", "--home", str(home), "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and selector.select(timeout=1.0) is not None:
        line = proc.stderr.readline()
        if line.startswith(b"keyd listening on "):
            return proc, int(line.rsplit(b":", 1)[1])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("keyd did not start")


def bench_keyd(tmp: Path, *, quick: bool) -> dict[str, Any]:
    plan = KEYD_QUICK if quick else KEYD_FULL
    home = tmp / "keyd-home"
    Vault.init_home(home, Environment.DEV)
    ca = InternalCa.init(home / "ca", home / "ca-root", trust_domain="bench.internal")
    proc, port = _start_keyd(home)
    try:
        return _measure(plan, home, ca, port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def _measure(plan: KeydPlan, home: Path, ca: InternalCa, port: int) -> dict[str, Any]:
    def client(service: str) -> RemoteKms:
        issued = ca.issue(service)
        settings = RemoteSettings(
            host="127.0.0.1", port=port, ca=home / "ca", identity=service,
            cert=issued.chain, key=issued.key,
        )  # fmt: skip
        return RemoteKms(settings, Environment.DEV)

    ops, api = client("ops"), client("api")
    try:
        ops.create_key(KEY_ID, {"tenant": "acme"})
        _, wrapped = api.generate_data_key(KEY_ID, b"ad")
        remote = _timed(plan.unwraps, lambda: api.unwrap(KEY_ID, wrapped, b"ad"))
        local = LocalKms(home / "bench-local.cvkr", resolve_root_key(home), Environment.DEV)
        local.create_key(KEY_ID, {})
        _, local_wrapped = local.generate_data_key(KEY_ID, b"ad")
        in_process = _timed(plan.unwraps, lambda: local.unwrap(KEY_ID, local_wrapped, b"ad"))
        handshake, tcp = _handshakes(plan.handshakes, ca, home, port)
        first = _first_requests(plan.handshakes // 2, api, wrapped)
    finally:
        ops.close()
        api.close()
    unwrap_remote, unwrap_local = _stats(remote), _stats(in_process)
    return {
        "plan": asdict(plan),
        "handshake": _stats(handshake),
        "tcp_connect": _stats(tcp),
        "first_request": _stats(first),
        "unwrap_remote": unwrap_remote,
        "unwrap_in_process": unwrap_local,
        "unwrap_median_ratio": unwrap_remote["median_ms"] / unwrap_local["median_ms"],
        "unwrap_p99_ratio": unwrap_remote["p99_ms"] / unwrap_local["p99_ms"],
    }


def _handshakes(n: int, ca: InternalCa, home: Path, port: int) -> tuple[list[float], list[float]]:
    issued = ca.issue("api")
    ctx = client_context(
        TlsProfile.MODERN, ca=issued.trust_bundle, cert=issued.chain, key=issued.key
    )
    verifier = PeerVerifier(home / "ca")

    def handshake() -> None:
        with ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1"
        ) as tls:
            verifier.check(tls)

    def tcp() -> None:
        socket.create_connection(("127.0.0.1", port)).close()

    # TLS first: keyd audits each bare TCP probe as nothing (no TLS record), cheaply.
    return _timed(n, handshake), _timed(n, tcp)


def _first_requests(n: int, client: RemoteKms, wrapped: Any) -> list[float]:
    """Each call on a new connection: the pool is emptied (untimed) before each."""
    samples = []
    for _ in range(n + 1):
        client.drop_connections()
        started = time.perf_counter()
        client.unwrap(KEY_ID, wrapped, b"ad")
        samples.append(time.perf_counter() - started)
    return samples[1:]  # the first one warms up


def keyd_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    remote, local = result["unwrap_remote"], result["unwrap_in_process"]
    hs = result["handshake"]
    return [
        {
            "name": "keyd: remote unwrap on a kept-alive connection",
            "value": remote["median_ms"],
            "threshold": UNWRAP_MEDIAN_TARGET_MS,
            "passed": remote["median_ms"] <= UNWRAP_MEDIAN_TARGET_MS,
            "text": f"keyd remote unwrap median {remote['median_ms']:.2f} ms, p99 "
            f"{remote['p99_ms']:.2f} ms (target median <= {UNWRAP_MEDIAN_TARGET_MS:.0f} ms); "
            f"in-process {local['median_ms'] * 1000:.1f} µs / {local['p99_ms'] * 1000:.1f} µs "
            f"(x{result['unwrap_median_ratio']:,.0f} median, x{result['unwrap_p99_ratio']:,.0f}"
            f" p99); mTLS handshake per new connection {hs['median_ms']:.2f} ms median, "
            f"{hs['p99_ms']:.2f} ms p99 (TCP connect alone "
            f"{result['tcp_connect']['median_ms']:.3f} ms)",
        }
    ]
