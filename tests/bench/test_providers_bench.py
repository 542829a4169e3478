"""The providers benchmark's quick plan on the local provider: correctness only, never timing.

The rewrap rate is only meaningful if every seeded DEK really moved to the new version and
still unwraps to the bytes it held: checked here independently of the harness's own check,
by driving its rewrap on a provider whose DEKs this test seeds and knows. A missing
provider must come back as "skipped", not as an error or a figure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from bench.providers import PROVIDERS_QUICK, bench_providers
from bench.providers._bench import PROVIDERS, _Server
from bench.providers._rewrap_rate import rewrap_rate

from callvault import Environment
from callvault.keys import KeyMaterial
from callvault.keys.providers import LocalKms, WrappedKey


@pytest.fixture(scope="module")
def quick_local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return bench_providers(tmp_path_factory.mktemp("providers"), quick=True, providers=["local"])


def test_quick_local_run_measures_every_figure(quick_local: dict[str, Any]) -> None:
    assert list(quick_local["providers"]) == ["local"]
    local = quick_local["providers"]["local"]
    assert local["status"] == "ok"
    for op in ("generate_data_key", "wrap", "unwrap"):
        for variant in ("bare", "stack"):
            figure = local["latency"][op][variant]
            assert figure["calls"] == PROVIDERS_QUICK.calls_in_process
            assert 0 < figure["median_us"] <= figure["p90_us"]
    for cache in ("warm", "cold"):
        assert local["hierarchy"][cache]["calls"] == PROVIDERS_QUICK.calls_in_process
    rewrap = local["rewrap"]
    assert rewrap["method"] == "unwrap + wrap"  # LocalKms has no server-side rewrap
    assert rewrap["deks"] == rewrap["verified"] == PROVIDERS_QUICK.rewrap_in_process
    assert (rewrap["from_version"], rewrap["to_version"]) == (1, 2)
    assert rewrap["deks_per_second"] > 0 and rewrap["x_aesgcm"] > 0


class _Recording:
    """A provider that remembers every DEK it hands out and every wrap it makes, so the
    test can check the harness's rewrap without trusting the harness's own check."""

    def __init__(self, inner: LocalKms) -> None:
        self.inner = inner
        self.scheme, self.environment = inner.scheme, inner.environment
        self.issued: list[tuple[bytes, bytes]] = []  # (DEK, associated data)
        self.wraps: list[tuple[WrappedKey, bytes]] = []

    def generate_data_key(self, key_id: str, aad: bytes) -> tuple[KeyMaterial, WrappedKey]:
        key, wrapped = self.inner.generate_data_key(key_id, aad)
        self.issued.append((key.secret_bytes(), aad))
        return key, wrapped

    def wrap(self, key_id: str, key: KeyMaterial, aad: bytes) -> WrappedKey:
        wrapped = self.inner.wrap(key_id, key, aad)
        self.wraps.append((wrapped, aad))
        return wrapped

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_every_rewrapped_dek_unwraps_to_the_same_bytes(tmp_path: Path) -> None:
    root = KeyMaterial(os.urandom(32), "root")
    provider = _Recording(LocalKms(tmp_path / "kr.cvkr", root, Environment.DEV))
    kek = "dev/rewrap/default"
    deks = 500
    result = rewrap_rate(provider, provider, kek, deks)
    assert result["deks"] == deks and result["to_version"] == 2
    assert len(provider.issued) == len(provider.wraps) == deks
    fresh = LocalKms(tmp_path / "kr.cvkr", root, Environment.DEV)  # no state shared
    fresh.set_min_decrypt_version(kek, 2)  # version 1 retired: only the new wraps count
    for (secret, aad), (wrapped, wrap_aad) in zip(provider.issued, provider.wraps, strict=True):
        assert wrap_aad == aad and wrapped.version == 2
        assert fresh.unwrap(kek, wrapped, aad).secret_bytes() == secret


def test_rewrap_check_catches_a_provider_that_loses_the_dek(tmp_path: Path) -> None:
    """The harness must refuse to report a rate when a rewrap changed a DEK."""
    inner = LocalKms(tmp_path / "kr.cvkr", KeyMaterial(os.urandom(32), "root"), Environment.DEV)

    class Lossy(_Recording):
        def wrap(self, key_id: str, key: KeyMaterial, aad: bytes) -> WrappedKey:
            return self.inner.wrap(key_id, KeyMaterial(os.urandom(32), "wrong"), aad)

    lossy: Any = Lossy(inner)
    with pytest.raises(AssertionError, match="different bytes"):
        rewrap_rate(lossy, lossy, "dev/rewrap/default", 50)


def test_missing_software_is_reported_as_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.providers import Skipped

    def missing(tmp: Path) -> _Server:
        raise Skipped("SoftHSM2 is not installed (apt-get install softhsm2)")

    monkeypatch.setitem(PROVIDERS, "pkcs11", missing)
    result = bench_providers(tmp_path, quick=True, providers=["pkcs11"])
    assert result["providers"] == {
        "pkcs11": {
            "status": "skipped",
            "reason": "SoftHSM2 is not installed (apt-get install softhsm2)",
        }
    }
