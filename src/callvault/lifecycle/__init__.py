"""Jobs that walk all stored data: rewrap after a master-key rotation, and the retirement
of old master-key versions once nothing depends on them.

    report = rewrap(vault, services.objects, services.records)          # resumable, batched
    retire(vault, services.objects, services.records, tenant="acme", below=2)
    revoke(vault, services.objects, services.records, tenant="acme", version=3)  # leaked

What is rewrapped and what is not, concurrency and resumability: docs/keys.md,
"Rotation, rewrap and retirement" and "Revoking a compromised version".
"""

from callvault.lifecycle._report import Failure, RewrapReport
from callvault.lifecycle._retire import RetirementBlocked, RetireResult, retire, tenant_key_id
from callvault.lifecycle._revoke import RevokeReport, revoke
from callvault.lifecycle._rewrap import DEFAULT_BATCH, Observer, rewrap
from callvault.lifecycle._state import LOCK_FILE, STATE_FILE, RewrapInProgress

__all__ = [
    "DEFAULT_BATCH",
    "LOCK_FILE",
    "STATE_FILE",
    "Failure",
    "Observer",
    "RetireResult",
    "RetirementBlocked",
    "RevokeReport",
    "RewrapInProgress",
    "RewrapReport",
    "retire",
    "revoke",
    "rewrap",
    "tenant_key_id",
]
