"""Rewrapping one wrapped key under its master key's primary version, verified.

A rotation adds a master-key version; keys wrapped before it stay under the old version
until they are *rewrapped*: the same secret wrapped again under the primary, with the same
associated data. Nothing above the wrap changes (the DEK, hence every body it encrypts,
stays byte-identical), which is why a rewrap is cheap and can run over a whole store.

A provider that can rewrap inside the KMS (Vault Transit's ``rewrap``, AWS KMS's
``ReEncrypt``) exposes an optional ``rewrap(key_id, wrapped, associated_data)``; it is used
when present, else the key is unwrapped and wrapped again. Either way the new wrap is
unwrapped once more and compared with the old secret before it is returned: a rewrap must
never produce a value that does not open (a misbehaving provider, a wrong associated data),
because the old value is about to be replaced by it.

Managed keys (subject and index keys in ``keys/managed.json``) are rewrapped the same way,
with the associated data the hierarchy binds them to (``rewrap_managed``).
"""

from __future__ import annotations

import hmac

from callvault.errors import OpenError
from callvault.keys._hierarchy import _managed_aad
from callvault.keys._managed import ManagedKeyRecord
from callvault.keys.providers._base import KmsProvider, WrappedKey

__all__ = ["rewrap_key", "rewrap_managed"]


def rewrap_key(
    provider: KmsProvider,
    key_id: str,
    wrapped: WrappedKey,
    associated_data: bytes,
    primary: int,
) -> WrappedKey | None:
    """``wrapped`` rewrapped under ``key_id``'s primary version, or ``None`` when it is
    already there (or the provider's primary is not newer than it): never wrapped twice.

    Raises what the provider raises (``KeyUnavailable`` for a retired or disabled version,
    ``OpenError`` for a blob that does not authenticate), and ``OpenError`` when the new
    wrap does not unwrap to the same secret.
    """
    if wrapped.version >= primary:
        return None
    old = provider.unwrap(key_id, wrapped, associated_data)
    rewrap = getattr(provider, "rewrap", None)
    if callable(rewrap):
        new: WrappedKey = rewrap(key_id, wrapped, associated_data)
    else:
        new = provider.wrap(key_id, old, associated_data)
    if new.version <= wrapped.version:
        return None  # the primary moved back under us (un-rotation): nothing gained
    check = provider.unwrap(key_id, new, associated_data)
    if not hmac.compare_digest(check.secret_bytes(), old.secret_bytes()):
        raise OpenError
    return new


def rewrap_managed(
    provider: KmsProvider, record: ManagedKeyRecord, primary: int
) -> ManagedKeyRecord | None:
    """The managed key ``record`` with its key rewrapped under ``primary``, or ``None``."""
    new = rewrap_key(provider, record.kek_id, record.wrapped, _managed_aad(record.name), primary)
    if new is None:
        return None
    return ManagedKeyRecord(record.name, record.kek_id, new, record.created_at)
