"""Rewrap of one sealed value's header: a new header under the primary master-key version.

Only a header whose DEK the KMS wraps directly (empty ``subject_key_id``) has anything to
rewrap: its wrap AAD leaves the key version out and its body context leaves out both the
version and the wrapped DEK (format/_header.py), so the new header opens the old body
unchanged, byte for byte. A header whose DEK a subject key wraps is never touched: its
version field is authenticated by the wrap (it cannot change) and the master-key version it
really depends on is the one of its subject's managed record, which is rewrapped instead.

``rewrap_header`` returns ``None`` when there is nothing to do, so a rerun over values
already rewrapped costs no KMS call and never wraps anything twice.
"""

from __future__ import annotations

from callvault.envelope._open import _names_an_environment
from callvault.errors import OpenError
from callvault.format import PREFIX_SIZE, Header, KeyReference, ObjectContext, header_length
from callvault.keys import KeyHierarchy
from callvault.keys._events import for_object
from callvault.keys._rewrap import rewrap_key
from callvault.keys.providers import WrappedKey, check_key_environment

__all__ = ["header_of", "rewrap_header"]


def header_of(sealed: bytes | memoryview) -> Header:
    """The parsed header at the start of a sealed value (``OpenError`` if malformed)."""
    if len(sealed) < PREFIX_SIZE:
        raise OpenError
    size = header_length(bytes(sealed[:PREFIX_SIZE]))
    if len(sealed) < size:
        raise OpenError
    return Header.parse(bytes(sealed[:size]))


def rewrap_header(
    hierarchy: KeyHierarchy,
    header_bytes: bytes,
    context: ObjectContext,
    *,
    primary: int | None = None,
) -> bytes | None:
    """The encoded header of ``header_bytes`` rewrapped under its master key's primary
    version (``primary`` if the caller knows it, else asked of the provider), or ``None``
    when the DEK is subject-wrapped or already at the primary.

    The new wrap is checked to unwrap to the same DEK before it is returned. Raises
    ``OpenError`` for a malformed header or one of another provider, ``EnvironmentMismatch``
    for a key of another environment, and whatever the provider raises for the old wrap.
    """
    header = Header.parse(header_bytes)
    if header.subject_key_id:
        return None
    ref = header.key_ref
    provider = hierarchy.provider_for(ref.provider)  # OpenError for a provider not configured
    if not _names_an_environment(ref.key_id):
        raise OpenError
    check_key_environment(ref.key_id, hierarchy.environment)
    if primary is None:
        primary = provider.describe_key(ref.key_id).primary_version
    with for_object(context.object_id):  # key-access events name the object
        new = rewrap_key(
            provider,
            ref.key_id,
            WrappedKey(ref.version, header.wrapped_dek),
            header.wrap_aad(context),
            primary,
        )
    if new is None:
        return None
    rewrapped = Header(KeyReference(ref.provider, ref.key_id, new.version), b"", new.blob)
    if rewrapped.body_context(context) != header.body_context(context):  # pragma: no cover
        raise OpenError  # the format guarantees it; refuse rather than orphan the body
    return rewrapped.encode()
