"""The per-object fast paths keep the guarantees of the slow ones.

What the seal/open path now resolves once (per keyring read, per key reference, per tenant
record) must still see every change another process makes, and the provider stack's fast
path (no sink, no trace) must not swallow an event or a trace line when one is wanted.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import pytest

from callvault import DataClass, Environment, KeyDestroyed, KeyUnavailable, OpenError, Vault
from callvault.errors import EnvironmentMismatch, ProviderUnreachable
from callvault.format import Header, KeyReference, ObjectContext, encode_header, wrap_aad
from callvault.format._encoding import encode_fields
from callvault.keys import (
    CachePolicy,
    Kek,
    KeyCache,
    KeyHierarchy,
    KeyMaterial,
    LoggingKeyEvents,
    ManagedKeyStore,
    MemoryKeyEvents,
)
from callvault.keys._events import current_use, for_object
from callvault.keys._hierarchy import _MEMO_LIMIT
from callvault.keys._seal_plan import SealPlan
from callvault.keys.providers import LocalKms, WrappedKey
from callvault.keys.providers._audited import AuditedProvider
from callvault.keys.providers._core import in_process_core
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


def _sealing_vault(tmp_path: Path) -> Vault:
    Vault.init_home(tmp_path / "h")
    vault = Vault.open_home(tmp_path / "h")
    vault.create_tenant("acme")
    return vault


def test_new_object_key_gives_what_new_data_key_and_the_header_give(tmp_path: Path) -> None:
    """The sealing path builds the header bytes and body context without a ``Header``:
    both must be the format's own encodings, and the DEK the one the header wraps."""
    vault = _sealing_vault(tmp_path)
    assert not vault.keys._observed()  # no enabled sink, no trace: the compact path runs
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    encoded, dek, body_context = vault.keys.new_object_key(ctx)
    header = Header.parse(encoded)
    assert header.encode() == encoded
    assert header.key_ref == KeyReference("local", KEY, 1) and header.subject_key_id == b""
    assert body_context == header.body_context(ctx)
    vault.cache.clear()
    assert vault.keys.data_key(header, ctx).secret_bytes() == dek
    other = vault.context("acme", DataClass.RECORDING, "o-2")
    vault.cache.clear()
    with pytest.raises(OpenError):  # the wrap is bound to the object's context
        vault.keys.data_key(header, other)
    vault.rotate_key("acme")
    encoded_v2, _, _ = vault.keys.new_object_key(ctx)
    assert Header.parse(encoded_v2).key_ref.version == 2


def test_the_compact_sealing_path_keeps_the_key_checks(tmp_path: Path) -> None:
    vault = _sealing_vault(tmp_path)
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    vault.provider.disable_key(KEY)
    with pytest.raises(KeyUnavailable):
        vault.seal(ctx, b"call audio")
    vault.provider.enable_key(KEY)
    assert vault.open(ctx, vault.seal(ctx, b"call audio")) == b"call audio"
    prod = ObjectContext("acme", Environment.PROD, DataClass.RECORDING, "o-1", None)
    with pytest.raises(EnvironmentMismatch):
        vault.seal(prod, b"call audio")


def test_sealing_names_the_object_whenever_someone_listens(tmp_path: Path) -> None:
    """The compact path skips naming the object only while no sink, trace or remote
    provider would use the name: with a sink on, every generate event carries it."""
    vault = _sealing_vault(tmp_path)
    sink = MemoryKeyEvents()
    vault.provider.add_sink(sink)  # type: ignore[attr-defined]
    assert vault.keys._observed()
    vault.seal(vault.context("acme", DataClass.RECORDING, "o-77"), b"x")
    subject_ctx = vault.context("acme", DataClass.RECORDING, "o-78", subject="caller:+15550100")
    vault.seal(subject_ctx, b"x")
    generated = [e for e in sink.events if e.operation == "generate"]
    assert generated[0].object_id == "o-77"


def test_an_in_process_provider_is_called_straight_through(kms_path: tuple[Path, bytes]) -> None:
    """No retries for a provider with no network: one call, its error as it is, and the
    breaker untouched; a provider that is not in-process still gets its retries."""

    class InProcess:
        in_process = True
        scheme, environment = "local", Environment.DEV

        def __init__(self) -> None:
            self.calls = 0

        def generate_data_key(self, key_id: str, ad: bytes) -> tuple[KeyMaterial, WrappedKey]:
            self.calls += 1
            raise ProviderUnreachable("cannot happen in-process; shown once, not retried")

    inner = InProcess()
    provider = ResilientProvider(inner, sleep=lambda _: None)  # type: ignore[arg-type]
    for _ in range(8):
        with pytest.raises(ProviderUnreachable):
            provider.generate_data_key(KEY, b"ad")
    assert inner.calls == 8 and not provider.circuit_open
    inner.in_process = False
    remote = ResilientProvider(inner, sleep=lambda _: None)  # type: ignore[arg-type]
    with pytest.raises(ProviderUnreachable):
        remote.generate_data_key(KEY, b"ad")
    assert inner.calls == 8 + 3  # RetryPolicy().attempts
    path, root = kms_path
    assert ResilientProvider(LocalKms(path, KeyMaterial(root, "r"), Environment.DEV))._direct


@pytest.mark.parametrize(
    ("subject_key_id", "wrapped"),
    [(b"", b"w" * 60), (b"\x01" * 32, b"w"), (b"\x01" * 31, b"w"), (b"", b""), (b"", b"w" * 4097)],
)
def test_encode_header_is_header_encode(subject_key_id: bytes, wrapped: bytes) -> None:
    """``encode_header`` against docs/format.md's layout written out byte by byte, and
    refusing exactly what a ``Header`` refuses."""
    ref = KeyReference("local", KEY, 9)
    try:
        Header(ref, subject_key_id, wrapped)
    except ValueError:
        with pytest.raises(ValueError):
            encode_header(ref, subject_key_id, wrapped)
        return
    rest = (
        bytes([len(b"local")]) + b"local" + len(KEY).to_bytes(2, "big") + KEY.encode()
        + (9).to_bytes(4, "big") + bytes([len(subject_key_id)]) + subject_key_id
        + len(wrapped).to_bytes(2, "big") + wrapped
    )  # fmt: skip
    expected = b"CVLT" + bytes([1, 0]) + (8 + len(rest)).to_bytes(2, "big") + rest
    assert encode_header(ref, subject_key_id, wrapped) == expected
    assert Header.parse(expected).encode() == expected


def test_in_process_core_looks_only_through_the_known_wrappers(
    kms_path: tuple[Path, bytes],
) -> None:
    """Sealing calls the core directly only through ``AuditedProvider`` and
    ``ResilientProvider`` (which pass an unobserved call on unchanged); any other wrapper,
    and any provider that is not in-process, is never skipped."""
    path, root = kms_path
    kms = LocalKms(path, KeyMaterial(root, "root"), Environment.DEV)
    assert in_process_core(AuditedProvider(ResilientProvider(kms), MemoryKeyEvents())) is kms
    assert in_process_core(kms) is kms

    class Wrapper:  # unknown behaviour: must stay in the call path
        def __init__(self, inner: LocalKms) -> None:
            self.inner, self.scheme, self.environment = inner, inner.scheme, inner.environment

    wrapped = Wrapper(kms)
    assert in_process_core(ResilientProvider(wrapped)) is None  # type: ignore[arg-type]

    class Remote:
        scheme, environment, in_process = "keyd", Environment.DEV, False

    assert in_process_core(AuditedProvider(Remote(), MemoryKeyEvents())) is None  # type: ignore[arg-type]


def test_sealing_without_observers_still_refuses_a_key_destroyed_elsewhere(
    tmp_path: Path,
) -> None:
    """A sealing plan keeps the key's resolution, not a licence to use it: the keyring is
    checked on every object, so a key destroyed by another process stops the very next
    seal."""
    vault = _sealing_vault(tmp_path)
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    vault.seal(ctx, b"x")  # the plan for this key is made
    assert vault.keys._seal_plans
    other = Vault.open_home(tmp_path / "h")  # another process's view of the same home
    other.provider.schedule_deletion(KEY, 7)
    with pytest.raises(KeyUnavailable):
        vault.seal(ctx, b"x")
    other.provider.cancel_deletion(KEY)
    assert vault.open(ctx, vault.seal(ctx, b"x")) == b"x"
    other.provider.schedule_deletion(KEY, 7)
    other.provider.destroy(KEY)
    with pytest.raises(KeyDestroyed):
        vault.seal(ctx, b"x")


def _header_of(sealed: bytes) -> Header:
    return Header.parse(sealed[: int.from_bytes(sealed[6:8], "big")])


def test_a_sealing_plan_follows_tenant_and_key_changes_made_elsewhere(tmp_path: Path) -> None:
    """A plan is reused only while the tenant directory and the keyring are unchanged: a
    customer key registered or a rotation by another process applies to the very next
    seal, and every object still opens."""
    home = _sealing_vault(tmp_path)
    customer = AuditedProvider(
        ResilientProvider(
            LocalKms(tmp_path / "cust.cvkr", KeyMaterial(os.urandom(32), "r"), Environment.DEV)
        ),
        LoggingKeyEvents(),
    )
    customer.create_key("dev/acme/cmk", {})
    vault = Vault(home.home, home.settings, home.provider, {"acme-cust": customer})
    assert not vault.keys._observed()
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    first = vault.seal(ctx, b"first")
    assert _header_of(first).key_ref == KeyReference("local", KEY, 1)
    assert ("acme", DataClass.RECORDING) in vault.keys._seal_plans  # the plan path ran

    other = Vault.open_home(tmp_path / "h")  # another process's view of the same home
    other.provider.rotate_key(KEY)
    second = vault.seal(ctx, b"second")
    assert _header_of(second).key_ref == KeyReference("local", KEY, 2)
    other.tenants.set_customer_key(
        "acme", DataClass.RECORDING, CustomerKey("acme-cust", "dev/acme/cmk", "2026-01-01")
    )
    third = vault.seal(ctx, b"third")
    assert _header_of(third).key_ref == KeyReference("acme-cust", "dev/acme/cmk", 1)
    transcript = vault.context("acme", DataClass.TRANSCRIPT, "t-1")
    assert _header_of(vault.seal(transcript, b"t")).key_ref == KeyReference("local", KEY, 2)
    vault.cache.clear()
    for sealed, plain in ((first, b"first"), (second, b"second"), (third, b"third")):
        assert vault.open(ctx, sealed) == plain


def test_a_plan_and_the_full_path_seal_byte_for_byte_alike(tmp_path: Path) -> None:
    """With the randomness fixed, the plan path and ``new_data_key`` give the same header,
    DEK and body context."""
    vault = _sealing_vault(tmp_path)
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    draws = [os.urandom(44) for _ in range(2)]
    real_urandom = os.urandom

    def replay(n: int) -> bytes:
        return draws[0][:n] if n == 44 else real_urandom(n)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "urandom", replay)
        planned = vault.keys.new_object_key(ctx)
        dek, header = vault.keys.new_data_key(ctx)
    assert ("acme", DataClass.RECORDING) in vault.keys._seal_plans
    assert planned == (header.encode(), dek.secret_bytes(), header.body_context(ctx))


def test_a_provider_without_sealing_keys_seals_through_the_full_path(
    kms_path: tuple[Path, bytes], tmp_path: Path
) -> None:
    path, root = kms_path

    class Plain(LocalKms):
        sealing_key = None  # type: ignore[assignment]

    # In-process and nobody listening (the logger is off): the plan path is tried.
    plain = Plain(path, KeyMaterial(root, "r"), Environment.DEV)
    provider = AuditedProvider(plain, LoggingKeyEvents())
    generation = object()
    hierarchy = KeyHierarchy(
        provider,
        ManagedKeyStore(tmp_path / "managed.json"),
        lambda _t, _c: Kek(KEY),
        KeyCache(CachePolicy()),
        kek_generation=lambda: generation,
    )
    assert not hierarchy._observed()
    ctx = ObjectContext("acme", Environment.DEV, DataClass.RECORDING, "o-1", None)
    encoded, dek, body = hierarchy.new_object_key(ctx)
    assert not hierarchy._seal_plans
    header = Header.parse(encoded)
    assert body == header.body_context(ctx)
    assert hierarchy.data_key(header, ctx).secret_bytes() == dek


def test_a_plan_refuses_a_wrap_of_another_size() -> None:
    """The plan's header prefix carries the wrap's length: a sealing key that returned a
    different size would make an unopenable header, so it is refused, not written."""

    class Odd:
        version, wrapped_size = 1, 60

        def generate(self, associated_data: bytes) -> tuple[bytes, bytes]:
            return b"k" * 32, b"w" * 59

    plan = SealPlan(object(), Odd(), b"aad", b"header", b"body")
    with pytest.raises(RuntimeError):
        plan.seal(b"tail")


def test_a_local_sealing_key_generates_only_while_the_keyring_is_unchanged(
    kms_path: tuple[Path, bytes],
) -> None:
    path, root = kms_path
    kms = LocalKms(path, KeyMaterial(root, "r"), Environment.DEV)
    key = kms.sealing_key(KEY)
    made = key.generate(b"ad")
    assert made is not None and key.version == 1
    secret, blob = made
    assert len(blob) == key.wrapped_size
    assert kms.unwrap(KEY, WrappedKey(key.version, blob), b"ad").secret_bytes() == secret
    with pytest.raises(OpenError):
        kms.unwrap(KEY, WrappedKey(key.version, blob), b"other ad")
    _other_process(path, root, f"rotate_key({KEY!r})")
    assert key.generate(b"ad") is None  # resolved from a keyring read that is gone
    assert kms.sealing_key(KEY).version == 2
    _other_process(path, root, f"disable_key({KEY!r})")
    with pytest.raises(KeyUnavailable):
        kms.sealing_key(KEY)


def test_a_plan_left_behind_keeps_no_key_in_memory(tmp_path: Path) -> None:
    """A plan for a class nobody seals any more must not keep the keyring read it was
    made from (with the keys' bytes and ciphers) alive once the keyring has changed:
    after a destroy, the destroyed key must not linger in this process because of it."""
    vault = _sealing_vault(tmp_path)
    vault.seal(vault.context("acme", DataClass.RECORDING, "o-1"), b"x")
    plan = vault.keys._seal_plans[("acme", DataClass.RECORDING)]
    core = in_process_core(vault.provider)
    read = weakref.ref(core._view._snapshot)  # type: ignore[union-attr]
    other = Vault.open_home(tmp_path / "h")  # another process's view of the same home
    other.provider.schedule_deletion(KEY, 7)
    other.provider.destroy(KEY)
    # Any use of the keyring here reads it anew (no seal in this class: the plan stays).
    assert vault.provider.describe_key(KEY).state == "destroyed"
    gc.collect()
    assert read() is None  # the old read (with the key's bytes and AES-GCM) is gone
    assert vault.keys._seal_plans[("acme", DataClass.RECORDING)] is plan  # still kept
    with pytest.raises(KeyDestroyed):
        vault.seal(vault.context("acme", DataClass.RECORDING, "o-2"), b"y")


def test_a_cached_dek_is_not_handed_to_another_context(tmp_path: Path) -> None:
    """The DEK cache is keyed by the whole wrap (associated data with the object context,
    blob, version): a DEK recovered for one object is not returned for its header under
    another object's context (the KMS would refuse that unwrap, so the cache must too)."""
    vault = _sealing_vault(tmp_path)
    ctx = vault.context("acme", DataClass.RECORDING, "o-1")
    sealed = vault.seal(ctx, b"call audio")
    header = _header_of(sealed)
    before = len(vault.cache)
    dek = vault.keys.data_key(header, ctx)
    assert len(vault.cache) == before + 1  # its DEK is cached now
    assert vault.keys.data_key(header, ctx) is dek  # and served from there
    for other in (
        vault.context("acme", DataClass.RECORDING, "o-2"),
        vault.context("acme", DataClass.TRANSCRIPT, "o-1"),
    ):
        with pytest.raises(OpenError):
            vault.keys.data_key(header, other)
    with pytest.raises(OpenError):  # another wrapped DEK in the same header position
        vault.keys.data_key(Header(header.key_ref, b"", os.urandom(60)), ctx)
