"""The ``providers`` section end to end: plans, the backends' lifetimes, one run each.

Every backend that can run here is launched first (the two servers boot side by side),
then waited for, and only then measured one after the other, so no server's start-up
competes for the CPU with a measurement. For each: a fresh home whose ``kms`` setting is
the backend's URI, opened with ``Vault.open_home`` (the provider comes through
``open_provider``: the full stack) plus the bare provider from ``open_bare_provider``;
one tenant; then the per-call latencies (``_latency``) and the rewrap rate
(``_rewrap_rate``). A backend whose software is missing is reported as skipped; any other
failure (a server that does not start, a wrong DEK) aborts the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.providers._backend import Backend, Skipped, scoped_environ
from bench.providers._latency import hierarchy_latency, provider_latency
from bench.providers._local_hsm import LocalServer, SoftHsmServer
from bench.providers._moto import MotoServer
from bench.providers._openbao import OpenBaoServer
from bench.providers._rewrap_rate import aesgcm_baseline, rewrap_rate
from callvault import Vault
from callvault.config import CONFIG_FILE
from callvault.keys.providers import KmsProvider, ProviderSettings
from callvault.keys.providers._registry import open_bare_provider

__all__ = ["PROVIDERS", "PROVIDERS_FULL", "PROVIDERS_QUICK", "ProvidersPlan", "bench_providers"]

TENANT = "bench"
REWRAP_TENANT = "rewrap"  # a key of its own: rotating it leaves TENANT's key at version 1


class _Server(Protocol):
    def ready(self) -> Backend: ...

    def stop(self) -> None: ...


PROVIDERS: dict[str, Callable[[Path], _Server]] = {
    "local": LocalServer,
    "pkcs11": SoftHsmServer,
    "vault": OpenBaoServer,
    "aws": MotoServer,
}


@dataclass(frozen=True)
class ProvidersPlan:
    name: str
    calls_in_process: int  # timed calls per operation and variant (local, PKCS#11)
    calls_network: int  # the same for OpenBao and moto (one round trip each)
    rewrap_in_process: int  # DEKs rewrapped (local, PKCS#11)
    rewrap_network: int
    verify_network: int = 500  # rewrapped DEKs checked over the network (all in process)
    pool: int = 64  # distinct DEKs / objects the timed calls cycle through

    def calls(self, backend: Backend) -> int:
        return self.calls_in_process if backend.in_process else self.calls_network

    def rewrap(self, backend: Backend) -> int:
        return self.rewrap_in_process if backend.in_process else self.rewrap_network


PROVIDERS_FULL = ProvidersPlan("full", 3_000, 300, 100_000, 2_000)
PROVIDERS_QUICK = ProvidersPlan("quick", 300, 30, 2_000, 100)


def _open(backend: Backend, tmp: Path) -> tuple[Vault, KmsProvider]:
    """A home using the backend's provider (full stack) and the bare provider beside it."""
    home = tmp / f"providers-{backend.name}"
    Vault.init_home(home)
    config = home / CONFIG_FILE
    default = 'kms = "local://"'
    if default not in config.read_text():
        raise AssertionError(f"{config} has no {default} line to replace")
    config.write_text(config.read_text().replace(default, f'kms = "{backend.uri}"'))
    with scoped_environ(backend.environ):
        vault = Vault.open_home(home)
        bare = open_bare_provider(backend.uri, ProviderSettings(home, vault.environment))
    vault.create_tenant(TENANT)
    return vault, bare


def _measure(backend: Backend, tmp: Path, plan: ProvidersPlan) -> dict[str, Any]:
    started = time.perf_counter()
    vault, bare = _open(backend, tmp)
    kek = vault.keys.master_key_id(TENANT)
    calls = plan.calls(backend)
    pool = min(plan.pool, calls)
    return {
        "status": "ok",
        "uri": backend.uri,
        "notes": backend.notes,
        "latency": provider_latency(bare, vault.provider, kek, calls, pool),
        "hierarchy": hierarchy_latency(vault, TENANT, calls, pool),
        "rewrap": rewrap_rate(
            bare,
            vault.provider,
            vault.keys.master_key_id(REWRAP_TENANT),
            plan.rewrap(backend),
            verify=None if backend.in_process else plan.verify_network,
        ),
        "seconds": time.perf_counter() - started,
    }


def bench_providers(
    tmp: Path, *, quick: bool, providers: Sequence[str] = tuple(PROVIDERS)
) -> dict[str, Any]:
    plan = PROVIDERS_QUICK if quick else PROVIDERS_FULL
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    servers: dict[str, _Server] = {}
    try:
        for name in providers:
            try:
                servers[name] = PROVIDERS[name](tmp)
            except Skipped as skipped:
                results[name] = {"status": "skipped", "reason": str(skipped)}
        backends = {name: server.ready() for name, server in servers.items()}
        startup = time.perf_counter() - started
        for name, backend in backends.items():
            results[name] = _measure(backend, tmp, plan)
    finally:
        for server in servers.values():
            server.stop()
    baseline = aesgcm_baseline(plan.rewrap_in_process)
    for result in results.values():
        if result["status"] == "ok":
            rate = result["rewrap"]["deks_per_second"]
            result["rewrap"]["x_aesgcm"] = rate / baseline["deks_per_second"]
    return {
        "plan": asdict(plan),
        "baseline": baseline,
        "providers": {name: results[name] for name in providers},
        "startup_seconds": startup,
        "seconds": time.perf_counter() - started,
    }
