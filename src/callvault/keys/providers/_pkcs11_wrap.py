"""Wrap and unwrap inside the token: CKM_AES_GCM with the caller's associated data bound.

The blob is ``nonce(12) || ciphertext(32) || tag(16)``, as in the local KMS. The nonce is
a fresh random 96-bit value per wrap (the module's own IV generation is optional in
PKCS#11 and absent from SoftHSM); random nonces bound one version to 2**32 wraps (NIST SP
800-38D), far above what the rotation cadence lets one version see. The associated data
is ``encode_fields("callvault/pkcs11-kms-wrap/v1", [key id, u32 version, caller's AD])``,
so a blob opens only under its own key id, version and context.

A tag that does not verify comes back from SoftHSM as ``CKR_GENERAL_ERROR`` and from other
modules as ``CKR_ENCRYPTED_DATA_INVALID``; since a general error may also be a failing
device, the token is asked for a few random bytes first: if it answers, the blob is bad
(``OpenError``); if not, the token is (``KeyUnavailable`` through the session layer).

Object searches cost time linear in the objects on the token (SoftHSM scans them all), so
found key objects are kept in a ``HandleCache``. A cached object is never trusted blindly:
before a wrap its label, id and ``CKA_ENCRYPT`` are read back (a wrap under the wrong
object would be unrecoverable); an unwrap that fails on a cached object is retried once
after a fresh search. The token's attributes stay the authority for state either way.
"""

from __future__ import annotations

import os
import struct

import pkcs11
from pkcs11 import Attribute, GCMParams, Mechanism
from pkcs11 import exceptions as p11

from callvault.errors import CallvaultError, KeyNotFound, KeyUnavailable, OpenError
from callvault.format._encoding import encode_fields
from callvault.keys.providers._base import KeyState, WrappedKey, unusable_error
from callvault.keys.providers._pkcs11_objects import (
    HandleCache,
    find_versions,
    label,
    load_record,
    version_of,
)
from callvault.keys.providers._pkcs11_session import GONE

__all__ = ["WRAPPED_SIZE", "unwrap_in_token", "wrap_in_token"]

_NONCE, _KEY, _TAG = 12, 32, 16
WRAPPED_SIZE = _NONCE + _KEY + _TAG
_MAX_VERSION = 0xFFFFFFFF
_TAG_FAILURES = (p11.GeneralError, p11.EncryptedDataInvalid, p11.EncryptedDataLenRange)


def wrap_in_token(
    session: pkcs11.Session, cache: HandleCache, key_id: str, secret: bytes, ad: bytes
) -> WrappedKey:
    """Encrypt ``secret`` under the key's primary version, the one object the token lets
    encrypt (``CKA_ENCRYPT``); anything else is explained from the key's record."""
    entry = cache.primary.get(key_id)
    if entry is None or _identity(entry[0]) != (label(key_id), entry[1], True):
        cache.primary.pop(key_id, None)
        found = find_versions(session, key_id, encrypt=True)
        if len(found) != 1 or not isinstance(found[0], pkcs11.EncryptMixin):
            raise refusal(session, key_id, None, "no single encrypting version")
        entry = cache.primary[key_id] = (found[0], version_of(found[0]))
    key, version = entry
    nonce = os.urandom(_NONCE)
    params = GCMParams(nonce, _aad(key_id, version, ad))
    try:
        sealed = key.encrypt(secret, mechanism=Mechanism.AES_GCM, mechanism_param=params)
    except GONE:
        raise
    except p11.PKCS11Error as exc:  # e.g. disabled by another process since the check
        cache.primary.pop(key_id, None)
        raise refusal(session, key_id, None, type(exc).__name__) from None
    if not isinstance(sealed, bytes) or len(sealed) != _KEY + _TAG:
        raise KeyUnavailable(f"PKCS#11 token returned a malformed wrap for key {key_id}")
    return WrappedKey(version, nonce + sealed)


def unwrap_in_token(
    session: pkcs11.Session, cache: HandleCache, key_id: str, wrapped: WrappedKey, ad: bytes
) -> bytes:
    """Decrypt ``wrapped`` inside the token under the version it names."""
    version, blob = wrapped.version, wrapped.blob
    if len(blob) != WRAPPED_SIZE or not 1 <= version <= _MAX_VERSION:
        raise OpenError
    params = GCMParams(blob[:_NONCE], _aad(key_id, version, ad))
    cached = cache.versions.get((key_id, version))
    for key in (cached, None) if cached is not None else (None,):
        if key is None:
            found = find_versions(session, key_id, version=version, decrypt=True)
            if len(found) != 1 or not isinstance(found[0], pkcs11.DecryptMixin):
                raise refusal(session, key_id, version, "version not usable for decryption")
            key = cache.versions[(key_id, version)] = found[0]
        try:
            raw = key.decrypt(blob[_NONCE:], mechanism=Mechanism.AES_GCM, mechanism_param=params)
        except GONE:
            raise
        except (*_TAG_FAILURES, p11.ObjectHandleInvalid, p11.KeyHandleInvalid):
            if key is cached and _identity(key)[:2] != (label(key_id), version):
                cache.versions.pop((key_id, version), None)
                continue  # a stale handle: search afresh, once
            if key is not cached:  # (reading the identity above proved the token answers)
                session.generate_random(64)  # raises (-> KeyUnavailable) if the token failed
            raise OpenError from None
        except p11.PKCS11Error as exc:
            cache.versions.pop((key_id, version), None)
            raise refusal(session, key_id, version, type(exc).__name__) from None
        if not isinstance(raw, bytes) or len(raw) != _KEY:
            raise OpenError
        return raw
    raise OpenError  # pragma: no cover - the loop always returns or raises


def refusal(
    session: pkcs11.Session, key_id: str, version: int | None, reason: str
) -> CallvaultError:
    """Why the token would not wrap (``version`` None) or unwrap: read from the record.

    Unknown key: ``KeyNotFound`` for a wrap, ``OpenError`` for an unwrap (the key id came
    from an attacker-controlled header). Destroyed, disabled, pending deletion and retired
    versions map as in the provider contract; a record that allows the call while the token
    refuses it (an interrupted change) is ``KeyUnavailable``: fail closed."""
    record = load_record(session, key_id)
    if record is None:
        return KeyNotFound(f"no key {key_id}") if version is None else OpenError()
    if (error := unusable_error(KeyState(record.state), key_id)) is not None:
        return error
    if version is not None and version not in record.versions:
        return OpenError()
    if version is not None and version < record.min_decrypt:
        return KeyUnavailable(
            f"key {key_id} version {version} is retired (minimum decryption version "
            f"{record.min_decrypt})"
        )
    return KeyUnavailable(
        f"PKCS#11 token refused key {key_id} ({reason}) although its record allows the "
        "call: an interrupted key change? Re-run the last key command to re-apply it"
    )


def _identity(key: pkcs11.Object) -> tuple[str | None, int | None, bool]:
    """(label, version, may encrypt) of an object, in one attribute read; a stale handle
    reads as (None, None, False)."""
    try:
        values = key.get_attributes([Attribute.LABEL, Attribute.ID, Attribute.ENCRYPT])
    except GONE:
        raise
    except p11.PKCS11Error:
        return None, None, False
    ident = values.get(Attribute.ID, b"")
    version = int(struct.unpack(">I", ident)[0]) if len(ident) == 4 else None
    return values.get(Attribute.LABEL), version, values.get(Attribute.ENCRYPT) is True


def _aad(key_id: str, version: int, associated_data: bytes) -> bytes:
    return encode_fields(
        b"callvault/pkcs11-kms-wrap/v1",
        [key_id.encode(), struct.pack(">I", version), associated_data],
    )
