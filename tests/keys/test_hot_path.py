"""The per-object fast paths keep the guarantees of the slow ones.

What the seal/open path now resolves once (per keyring read, per key reference, per tenant
record) must still see every change another process makes, and the provider stack's fast
path (no sink, no trace) must not swallow an event or a trace line when one is wanted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from callvault import DataClass, Environment, KeyDestroyed, KeyUnavailable, OpenError, Vault
from callvault.format import Header, KeyReference, wrap_aad
from callvault.format._encoding import encode_fields
from callvault.keys import KeyMaterial, MemoryKeyEvents
from callvault.keys._events import current_use, for_object
from callvault.keys._hierarchy import _MEMO_LIMIT
from callvault.keys.providers import LocalKms, WrappedKey
from callvault.keys.providers._audited import AuditedProvider
from callvault.keys.providers._keyring_view import aad_prefix
from callvault.keys.providers._resilient import ResilientProvider
from callvault.tenants import CustomerKey
from callvault.transport.trace import CallTrace, read_trace, tracing

KEY = "dev/acme/default"


@pytest.fixture
def kms_path(tmp_path: Path) -> tuple[Path, bytes]:
    root = os.urandom(32)
    LocalKms(tmp_path / "k.cvkr", KeyMaterial(root, "root"), Environment.DEV).create_key(KEY, {})
    return tmp_path / "k.cvkr", root


def _other_process(path: Path, root: bytes, *calls: str) -> None:
    """Run LocalKms administration in a separate Python process on the same keyring."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from callvault import Environment
        from callvault.keys import KeyMaterial
        from callvault.keys.providers import LocalKms
        kms = LocalKms(Path({str(path)!r}), KeyMaterial(bytes.fromhex({root.hex()!r}), "r"),
                       Environment.DEV)
        """
    ) + "\n".join(f"kms.{call}" for call in calls)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_a_destroy_in_another_process_stops_the_next_wrap_and_unwrap(
    kms_path: tuple[Path, bytes],
) -> None:
    path, root = kms_path
    kms = LocalKms(path, KeyMaterial(root, "root"), Environment.DEV)
    key = KeyMaterial.generate("dek")
    wrapped = kms.wrap(KEY, key, b"ad")  # warm: the key is resolved and kept
    assert kms.unwrap(KEY, wrapped, b"ad").secret_bytes() == key.secret_bytes()
    _other_process(path, root, f"schedule_deletion({KEY!r}, 0)", f"destroy({KEY!r})")
    with pytest.raises(KeyDestroyed):
        kms.unwrap(KEY, wrapped, b"ad")
    with pytest.raises(KeyDestroyed):
        kms.wrap(KEY, key, b"ad")
    with pytest.raises(KeyDestroyed):  # refusals are not kept: asked again, same answer
        kms.unwrap(KEY, wrapped, b"ad")


def test_a_disable_in_another_process_stops_the_next_call_and_an_enable_restores_it(
    kms_path: tuple[Path, bytes],
) -> None:
    path, root = kms_path
    kms = LocalKms(path, KeyMaterial(root, "root"), Environment.DEV)
    key = KeyMaterial.generate("dek")
    wrapped = kms.wrap(KEY, key, b"ad")
    _other_process(path, root, f"disable_key({KEY!r})")
    with pytest.raises(KeyUnavailable, match="disabled"):
        kms.wrap(KEY, key, b"ad")
    with pytest.raises(KeyUnavailable, match="disabled"):
        kms.unwrap(KEY, wrapped, b"ad")
    _other_process(path, root, f"enable_key({KEY!r})", f"rotate_key({KEY!r})")
    assert kms.wrap(KEY, key, b"ad").version == 2  # the other process's rotation is seen
    assert kms.unwrap(KEY, wrapped, b"ad").secret_bytes() == key.secret_bytes()


def test_a_retired_version_set_elsewhere_is_refused_here(kms_path: tuple[Path, bytes]) -> None:
    path, root = kms_path
    kms = LocalKms(path, KeyMaterial(root, "root"), Environment.DEV)
    key = KeyMaterial.generate("dek")
    wrapped = kms.wrap(KEY, key, b"ad")
    kms.unwrap(KEY, wrapped, b"ad")
    _other_process(path, root, f"rotate_key({KEY!r})", f"set_min_decrypt_version({KEY!r}, 2)")
    with pytest.raises(KeyUnavailable, match="retired"):
        kms.unwrap(KEY, wrapped, b"ad")


def test_the_wrap_encoding_is_unchanged(kms_path: tuple[Path, bytes]) -> None:
    """Blobs wrapped before the fast path still unwrap: the AAD is byte for byte the old
    ``encode_fields(label, [key id, u32 version, aad])``, and the blob size is enforced."""
    path, root = kms_path
    for version, ad in [(1, b""), (7, b"x"), (2**32 - 1, os.urandom(300))]:
        old = encode_fields(
            b"callvault/local-kms-wrap/v1", [KEY.encode(), version.to_bytes(4, "big"), ad]
        )
        assert aad_prefix(KEY, version) + len(ad).to_bytes(4, "big") + ad == old
    kms = LocalKms(path, KeyMaterial(root, "root"), Environment.DEV)
    wrapped = kms.wrap(KEY, KeyMaterial.generate("dek"), b"ad")
    kms.unwrap(KEY, wrapped, b"ad")  # resolved and kept: the size check must still run
    for blob in (wrapped.blob[:-1], wrapped.blob + b"\x00", b""):
        with pytest.raises(OpenError):
            kms.unwrap(KEY, WrappedKey(1, blob), b"ad")
    with pytest.raises(OpenError):
        kms.unwrap(KEY, wrapped, b"other ad")


def test_the_memoised_dek_wrap_aad_matches_the_format(tmp_path: Path) -> None:
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    vault.create_tenant("acme")
    for subject, ref in [
        (b"", KeyReference("local", KEY, 1)),
        (b"\x01" * 32, KeyReference("local", KEY, 3)),
        (b"\x02" * 32, KeyReference("hsm", KEY, 3)),
    ]:
        for ctx in (
            vault.context("acme", DataClass.RECORDING, "o-1"),
            vault.context("acme", DataClass.TRANSCRIPT, "o-22", subject="caller:+15550100"),
            vault.context("acme", DataClass.RECORDING, "o-1", subject="x"),
        ):
            for _ in range(2):  # the first call fills the memo, the second uses it
                got = vault.keys._wrap_aad(ref, subject, ctx)
                assert got == wrap_aad(ref, subject, ctx)


def test_key_reference_memos_are_bounded(tmp_path: Path) -> None:
    """Headers are untrusted: a stream of made-up key references must not grow memory."""
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    vault.create_tenant("acme")
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    for n in range(_MEMO_LIMIT + 50):
        header = Header(KeyReference("local", KEY, n + 1), b"", bytes(60))
        with pytest.raises(OpenError):
            vault.keys.data_key(header, ctx)
    assert len(vault.keys._aad_prefixes) <= _MEMO_LIMIT


def test_a_destroy_elsewhere_reaches_an_open_whose_dek_is_not_cached(tmp_path: Path) -> None:
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    vault.create_tenant("acme")
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    sealed = vault.seal(ctx, b"audio")
    assert vault.open(ctx, sealed) == b"audio"
    other = Vault.open_home(tmp_path / "h")  # the CLI, say: its own keyring reads
    other.provider.schedule_deletion(KEY, 0)
    other.provider.destroy(KEY)
    with pytest.raises(KeyDestroyed):
        vault.seal(ctx, b"more")
    vault.cache.clear()  # what the cache's age limit does in time
    with pytest.raises(KeyDestroyed):
        vault.open(ctx, sealed)


def test_kek_for_follows_tenant_changes_made_elsewhere(tmp_path: Path) -> None:
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    vault.create_tenant("acme")
    first = vault.kek_for("acme", DataClass.RECORDING)
    assert vault.kek_for("acme", DataClass.RECORDING) is first  # memoised
    other = Vault.open_home(tmp_path / "h")
    other.tenants.set_customer_key(
        "acme", DataClass.RECORDING, CustomerKey("hsm", "cust/key-1", "2025-01-01T00:00:00Z")
    )
    changed = vault.kek_for("acme", DataClass.RECORDING)
    assert (changed.provider, changed.key_id) == ("hsm", "cust/key-1")
    assert vault.kek_for("acme", DataClass.TRANSCRIPT).key_id == KEY


def test_the_fast_path_still_reports_to_an_enabled_sink_and_a_trace(
    kms_path: tuple[Path, bytes], tmp_path: Path
) -> None:
    path, root = kms_path

    class Switch(MemoryKeyEvents):
        on = False

        @property
        def enabled(self) -> bool:  # type: ignore[override]
            return self.on

    sink = Switch()
    kms = LocalKms(path, KeyMaterial(root, "root"), Environment.DEV)
    provider = AuditedProvider(ResilientProvider(kms), sink)
    key, wrapped = provider.generate_data_key(KEY, b"ad")
    provider.wrap(KEY, key, b"ad")
    provider.unwrap(KEY, wrapped, b"ad")
    assert sink.events == []  # disabled: nothing built
    sink.on = True
    with for_object("o-9"):
        provider.generate_data_key(KEY, b"ad")
        provider.wrap(KEY, key, b"ad")
        provider.unwrap(KEY, wrapped, b"ad")
        with pytest.raises(OpenError):
            provider.unwrap(KEY, wrapped, b"other")
    assert [(e.operation, e.outcome, e.object_id) for e in sink.events] == [
        ("generate", "ok", "o-9"),
        ("wrap", "ok", "o-9"),
        ("unwrap", "ok", "o-9"),
        ("unwrap", "OpenError", "o-9"),
    ]
    assert current_use().object_id is None  # the context was restored
    sink.on = False
    trace = CallTrace(tmp_path / "traces", "call-1")
    with tracing(trace):
        provider.unwrap(KEY, wrapped, b"ad")
    uses = [e for e in read_trace(tmp_path / "traces", "call-1") if e.get("kind") == "key"]
    assert len(uses) == 1 and uses[0]["operation"] == "unwrap"
    assert len(sink.events) == 4
