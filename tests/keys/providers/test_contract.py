"""The KMS provider contract, run against every backend (see conftest.py).

What every provider must do: keep master keys inside, bind associated data to every wrap,
version keys on rotation while old versions keep unwrapping, retire versions below the
minimum decryption version, refuse a disabled / pending-deletion key as ``KeyUnavailable``
and a destroyed one as ``KeyDestroyed``, answer a bad wrap with the one opaque
``OpenError``, refuse key ids of another environment, fail closed when its server is
unreachable, and be safe to call from several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from callvault import (
    Environment,
    EnvironmentMismatch,
    KeyDestroyed,
    KeyExists,
    KeyNotFound,
    KeyUnavailable,
    OpenError,
)
from callvault.keys import KeyMaterial
from callvault.keys.providers import KeyState, KmsProvider, WrappedKey

NewKeyId = Callable[..., str]
DEV = Environment.DEV


def _created(backend: Any, new_key_id: NewKeyId, **labels: str) -> tuple[KmsProvider, str]:
    provider = backend.provider(DEV)
    key_id = new_key_id()
    provider.create_key(key_id, labels)
    return provider, key_id


def _needs_key_state(backend: Any) -> None:
    if not backend.enforces_key_state:
        pytest.skip(f"{backend.name} does not enforce key state (see README: moto)")


def test_create_and_describe(backend: Any, new_key_id: NewKeyId) -> None:
    provider, key_id = _created(backend, new_key_id, tenant="acme", scope="default")
    assert provider.scheme == backend.name or backend.name.startswith(provider.scheme)
    described = provider.describe_key(key_id)
    assert described.key_id == key_id and described.environment is DEV
    assert described.state is KeyState.ENABLED
    assert (described.primary_version, described.min_decrypt_version) == (1, 1)
    assert described.versions == (1,)
    assert dict(described.labels) == {"tenant": "acme", "scope": "default"}
    assert key_id in {k.key_id for k in provider.list_keys()}
    with pytest.raises(KeyExists):
        provider.create_key(key_id, {})


def test_wrap_unwrap_binds_associated_data(backend: Any, new_key_id: NewKeyId) -> None:
    provider, key_id = _created(backend, new_key_id)
    key, wrapped = provider.generate_data_key(key_id, b"context-a")
    assert len(key.secret_bytes()) == 32 and wrapped.version == 1
    assert key.secret_bytes() not in wrapped.blob
    assert provider.unwrap(key_id, wrapped, b"context-a").secret_bytes() == key.secret_bytes()
    with pytest.raises(OpenError):
        provider.unwrap(key_id, wrapped, b"context-b")
    with pytest.raises(OpenError):
        provider.unwrap(key_id, wrapped, b"")
    own = KeyMaterial(bytes(range(32)), "test key")
    rewrapped = provider.wrap(key_id, own, b"ad")
    assert provider.unwrap(key_id, rewrapped, b"ad").secret_bytes() == own.secret_bytes()


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_tampered_wrap_is_opaque(backend: Any, new_key_id: NewKeyId, where: str) -> None:
    provider, key_id = _created(backend, new_key_id)
    _, wrapped = provider.generate_data_key(key_id, b"ad")
    blob = bytearray(wrapped.blob)
    blob[{"first": 0, "middle": len(blob) // 2, "last": -1}[where]] ^= 0x01
    with pytest.raises(OpenError):
        provider.unwrap(key_id, WrappedKey(wrapped.version, bytes(blob)), b"ad")
    for bad in (b"", wrapped.blob[:-1], wrapped.blob + b"\x00"):
        with pytest.raises(OpenError):
            provider.unwrap(key_id, WrappedKey(wrapped.version, bad), b"ad")


def test_a_wrap_under_another_key_does_not_open(backend: Any, new_key_id: NewKeyId) -> None:
    provider, first = _created(backend, new_key_id)
    second = new_key_id()
    provider.create_key(second, {})
    _, wrapped = provider.generate_data_key(first, b"ad")
    with pytest.raises(OpenError):
        provider.unwrap(second, wrapped, b"ad")


def test_rotation_versions_and_old_versions_still_unwrap(
    backend: Any, new_key_id: NewKeyId
) -> None:
    provider, key_id = _created(backend, new_key_id)
    key1, wrapped1 = provider.generate_data_key(key_id, b"ad")
    described = provider.rotate_key(key_id)
    assert (described.primary_version, described.versions) == (2, (1, 2))
    assert described.rotated_at >= described.created_at
    key2, wrapped2 = provider.generate_data_key(key_id, b"ad")
    assert wrapped2.version == 2
    assert provider.unwrap(key_id, wrapped1, b"ad").secret_bytes() == key1.secret_bytes()
    assert provider.unwrap(key_id, wrapped2, b"ad").secret_bytes() == key2.secret_bytes()
    for claimed in (2, 7):  # a wrap presented under the wrong version does not open
        with pytest.raises(OpenError):
            provider.unwrap(key_id, WrappedKey(claimed, wrapped1.blob), b"ad")


def test_minimum_decryption_version_retires_old_versions(
    backend: Any, new_key_id: NewKeyId
) -> None:
    provider, key_id = _created(backend, new_key_id)
    _, old = provider.generate_data_key(key_id, b"ad")
    provider.rotate_key(key_id)
    _, new = provider.generate_data_key(key_id, b"ad")
    assert provider.set_min_decrypt_version(key_id, 2).min_decrypt_version == 2
    with pytest.raises(KeyUnavailable):
        provider.unwrap(key_id, old, b"ad")
    provider.unwrap(key_id, new, b"ad")
    with pytest.raises(ValueError):
        provider.set_min_decrypt_version(key_id, 3)  # beyond the primary version
    provider.set_min_decrypt_version(key_id, 1)
    provider.unwrap(key_id, old, b"ad")


def test_disable_and_enable(backend: Any, new_key_id: NewKeyId) -> None:
    _needs_key_state(backend)
    provider, key_id = _created(backend, new_key_id)
    key, wrapped = provider.generate_data_key(key_id, b"ad")
    assert provider.disable_key(key_id).state is KeyState.DISABLED
    with pytest.raises(KeyUnavailable):
        provider.unwrap(key_id, wrapped, b"ad")
    with pytest.raises(KeyUnavailable):
        provider.generate_data_key(key_id, b"ad")
    with pytest.raises(KeyUnavailable):
        provider.wrap(key_id, key, b"ad")
    assert provider.enable_key(key_id).state is KeyState.ENABLED
    assert provider.unwrap(key_id, wrapped, b"ad").secret_bytes() == key.secret_bytes()


def test_deletion_lifecycle(backend: Any, new_key_id: NewKeyId) -> None:
    _needs_key_state(backend)
    provider, key_id = _created(backend, new_key_id)
    _, wrapped = provider.generate_data_key(key_id, b"ad")
    with pytest.raises(KeyUnavailable):
        provider.destroy(key_id)  # must be scheduled first
    described = provider.schedule_deletion(key_id, 7)
    assert described.state is KeyState.PENDING_DELETION
    assert described.deletion_date is not None
    with pytest.raises(KeyUnavailable):
        provider.unwrap(key_id, wrapped, b"ad")
    assert provider.cancel_deletion(key_id).state is KeyState.ENABLED
    provider.unwrap(key_id, wrapped, b"ad")
    if not backend.destroys_immediately:
        return
    provider.schedule_deletion(key_id, 7)
    assert provider.destroy(key_id).state is KeyState.DESTROYED
    assert provider.describe_key(key_id).state is KeyState.DESTROYED
    with pytest.raises(KeyDestroyed):
        provider.unwrap(key_id, wrapped, b"ad")
    with pytest.raises(KeyDestroyed):
        provider.rotate_key(key_id)
    with pytest.raises(KeyDestroyed):
        provider.generate_data_key(key_id, b"ad")


def test_unknown_keys(backend: Any, new_key_id: NewKeyId) -> None:
    provider = backend.provider(DEV)
    missing = new_key_id()
    with pytest.raises(KeyNotFound):
        provider.describe_key(missing)
    with pytest.raises(KeyNotFound):
        provider.rotate_key(missing)
    other, key_id = _created(backend, new_key_id)
    _, wrapped = other.generate_data_key(key_id, b"ad")
    with pytest.raises(OpenError):  # from a ciphertext header: just a bad ciphertext
        provider.unwrap(missing, wrapped, b"ad")


def test_key_ids_of_another_environment_are_refused(backend: Any, new_key_id: NewKeyId) -> None:
    prod = backend.provider(Environment.PROD)
    key_id = new_key_id(Environment.PROD)
    prod.create_key(key_id, {})
    key, wrapped = prod.generate_data_key(key_id, b"ad")
    with pytest.raises(EnvironmentMismatch):
        prod.create_key(new_key_id(Environment.DEV), {})
    with pytest.raises(EnvironmentMismatch):
        prod.unwrap(key_id.replace("prod/", "staging/", 1), wrapped, b"ad")
    with pytest.raises(EnvironmentMismatch):
        prod.wrap(new_key_id(Environment.DEV), key, b"ad")
    dev = backend.provider(DEV)
    with pytest.raises(EnvironmentMismatch):  # a dev provider will not touch a prod key
        dev.unwrap(key_id, wrapped, b"ad")


def test_an_unreachable_server_fails_closed(backend: Any, new_key_id: NewKeyId) -> None:
    if backend.unreachable is None:
        pytest.skip(f"{backend.name} has no server to lose")
    provider = backend.unreachable(DEV)
    key_id = new_key_id()
    with pytest.raises(KeyUnavailable):
        provider.generate_data_key(key_id, b"ad")
    with pytest.raises(KeyUnavailable):
        provider.unwrap(key_id, WrappedKey(1, bytes(60)), b"ad")
    with pytest.raises(KeyUnavailable):
        provider.describe_key(key_id)


def test_concurrent_use_from_threads(backend: Any, new_key_id: NewKeyId) -> None:
    provider, key_id = _created(backend, new_key_id)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                ad = f"{n}/{i}".encode()
                key, wrapped = provider.generate_data_key(key_id, ad)
                assert provider.unwrap(key_id, wrapped, ad).secret_bytes() == key.secret_bytes()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
