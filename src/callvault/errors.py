"""Every error callvault raises, in one tree.

Callers branch on *kind*, never on message text, so the tree is the contract::

    CallvaultError
    ├── OpenError            one opaque error for every failure to open a sealed object:
    │                        bad magic, unknown version, malformed header, wrong context,
    │                        wrong key, failed commitment, failed tag, truncation, reordering,
    │                        trailing data. The same message every time: no oracle.
    ├── KeyDestroyed         the key that protects the object was destroyed (erasure). Not an
    │                        oracle: it says nothing about the ciphertext, only about the key.
    ├── KeyUnavailable       the KMS cannot be reached or refused the call right now; the data
    │   │                    may open later. Fail closed: never a plaintext fallback.
    │   ├── ProviderUnreachable  the KMS did not answer (connection, timeout, throttling,
    │   │                    5xx, circuit open): worth retrying; a disabled key is not.
    │   └── KeyAccessDenied  keyd refused this service's identity or operation (mTLS peer
    │                        check or SPIFFE policy); defined with the keyd wire format.
    ├── EnvironmentMismatch  a key or keyring of one environment used in another (dev/staging/prod).
    ├── KeyNotFound          an administrative lookup of a key or tenant that does not exist.
    ├── KeyExists            creating a master key whose id is taken.
    ├── TenantExists         creating a tenant twice.
    ├── ConfigError          bad configuration, a root key with loose permissions, missing home.
    ├── InvalidRequest       a caller error detected before any work (bad range, bad id, …).
    ├── EgressRefused        an outbound connection broke the egress TLS policy (protocol,
    │                        suite, SPKI pin): closed before any request byte was sent;
    │                        defined with the egress factory (``PinMismatch`` below it).
    ├── AuditUnavailable     the audit log cannot take an entry (unwritable, truncated): the
    │                        action it would record is refused, fail closed.
    ├── BackupInvalid        a backup that is not one, or is corrupt, truncated, tampered with
    │                        or not opened by its key: one kind for all, nothing is written.
    └── RestoreRefused       restoring would be unsafe now: target home not empty, tombstone
                             ledger missing or not verifying (erasures could be undone).

When a key id read from a ciphertext header is unknown, opening raises ``OpenError``: the
header is attacker-controlled, so "no such key" is just another way the ciphertext is wrong.
"""

from __future__ import annotations

__all__ = [
    "AuditUnavailable",
    "BackupInvalid",
    "CallvaultError",
    "ConfigError",
    "EnvironmentMismatch",
    "InvalidRequest",
    "KeyDestroyed",
    "KeyExists",
    "KeyNotFound",
    "KeyUnavailable",
    "OpenError",
    "ProviderUnreachable",
    "RestoreRefused",
    "TenantExists",
]


class CallvaultError(Exception):
    """Base of every callvault error."""


class OpenError(CallvaultError):
    """The object could not be opened. Deliberately says nothing more."""

    MESSAGE = "cannot open: the ciphertext is invalid or does not belong to this context"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class KeyDestroyed(CallvaultError):
    """The protecting key has been destroyed; the data is cryptographically erased."""


class KeyUnavailable(CallvaultError):
    """The key service cannot serve the key right now (down, throttled, disabled)."""


class ProviderUnreachable(KeyUnavailable):
    """The KMS did not answer (or asked us to slow down); a retry may succeed."""


class EnvironmentMismatch(CallvaultError):
    """A key scoped to one environment was presented in another."""


class KeyNotFound(CallvaultError):
    """An administrative operation named a key or tenant that does not exist."""


class KeyExists(CallvaultError):
    """A master key with that id already exists."""


class TenantExists(CallvaultError):
    """The tenant already exists."""


class ConfigError(CallvaultError):
    """Configuration or home directory is invalid; nothing was changed."""


class InvalidRequest(CallvaultError):
    """The request is malformed (bad range, bad identifier); nothing was changed."""


class BackupInvalid(CallvaultError):
    """The backup cannot be trusted: not a backup, corrupt, truncated or tampered with."""


class RestoreRefused(CallvaultError):
    """Restoring would be unsafe (non-empty target, no or bad tombstone ledger)."""


class AuditUnavailable(CallvaultError):
    """The audit log cannot take an entry; the action it would record does not happen."""
