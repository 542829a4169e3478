"""The API benchmark's harness in its quick mode: correctness only, never timing.

It must run the real servers end to end with zero errors and intact objects, and its
baseline must really be the plaintext pipeline (else its "added latency" is meaningless):
checked here independently of the harness's own check, on the homes it leaves behind.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from bench.api import PlaintextVault, api_targets, bench_api
from bench.api._workload import MARKER, make_call

from callvault import DataClass, Vault


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("api-bench")
    return workdir, bench_api(workdir, quick=True)


def test_every_call_and_upload_intact(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, api = quick_run
    seq, conc = api["sequential"], api["concurrent"]
    plan = api["plan"]
    for mode in ("encrypted", "plaintext"):
        assert seq[mode]["calls"] == plan["calls"]
        assert seq["tls"][mode].startswith("TLSv1.3 ")
        assert conc[mode]["errors"] == 0, conc[mode]["error_samples"]
        assert conc[mode]["objects"] == plan["clients"] * plan["rounds"]
        assert conc[mode]["intact"] == conc[mode]["objects"]
    targets = {t["name"]: t for t in api_targets(api)}
    assert targets["API: concurrent uploads intact"]["passed"]
    assert targets["API: baseline is really plaintext"]["passed"]


def _stored_files(home: Path) -> list[bytes]:
    return [p.read_bytes() for p in (home / "objects").rglob("*") if p.is_file()]


def test_baseline_stored_plaintext_and_encrypted_did_not(
    quick_run: tuple[Path, dict[str, Any]],
) -> None:
    workdir, _ = quick_run
    audio = make_call(3, "+15550000001").audio  # a timed call, both pipelines stored it
    window = audio[100_000:100_064]
    plain_home = workdir / "api-plaintext" / "home"
    enc_home = workdir / "api-encrypted" / "home"
    assert audio in _stored_files(plain_home)
    assert not any(window in blob for blob in _stored_files(enc_home))
    assert MARKER.encode() in (plain_home / "records.db").read_bytes()
    records = b"".join(p.read_bytes() for p in enc_home.glob("records.db*") if p.is_file())
    assert MARKER.encode() not in records


def test_plaintext_vault_is_identity_only_where_meant(tmp_path: Path) -> None:
    Vault.init_home(tmp_path / "home")
    real = Vault.open_home(tmp_path / "home")
    real.create_tenant("acme")
    plain = PlaintextVault.over(real)
    ctx = real.context("acme", DataClass.RECORDING, "r1", subject="+15550000001")
    data = bytes(range(256)) * 200
    assert plain.seal(ctx, data) == data
    assert b"".join(plain.seal_iter(ctx, [data[:10], data[10:]])) == data
    assert plain.range_reader(ctx, io.BytesIO(data)).read(16_380, 16_390) == data[16_380:16_391]
    assert plain.range_reader(ctx, data).authenticated_length() == len(data)
    assert real.seal(ctx, data) != data  # the real vault next to it still encrypts
    # the blind index (search) is untouched: same key, same value as the real vault
    assert plain.keys.subject_key_id("acme", "+15550000001") == real.keys.subject_key_id(
        "acme", "+15550000001"
    )
