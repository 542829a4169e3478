"""The audit vocabulary of the API: one ``Event`` per route, named ``<resource>.<verb>``.

Names are singular resources and plain verbs, so a reader can grep the log by resource
(``recording.``) or verb (``.delete``). Key *administration* by a caller uses ``masterkey.``
and ``customerkey.``: ``key.<operation>`` belongs to the KMS key events that the provider
stack writes itself (``key.generate``, ``key.unwrap``, ``key.rotate``…), so an operator's
rotation is one ``masterkey.rotate`` entry followed by the ``key.rotate`` of the KMS call it
caused. Events with ``on_success=False`` are metadata reads: only their denials are logged.
The table in docs/audit.md ("API") lists the same names; a test keeps them in step.
"""

from __future__ import annotations

from typing import Final

from callvault.api._audit import Event

__all__ = ["EVENTS"]

TENANT_CREATE: Final = Event("tenant.create")
TENANT_LIST: Final = Event("tenant.list", on_success=False)
TENANT_READ: Final = Event("tenant.read", on_success=False)

RECORDING_WRITE: Final = Event("recording.write")
RECORDING_READ: Final = Event("recording.read")
RECORDING_DELETE: Final = Event("recording.delete")

TRANSCRIPT_WRITE: Final = Event("transcript.write")
TRANSCRIPT_READ: Final = Event("transcript.read")
TRANSCRIPT_SEARCH: Final = Event("transcript.search")

ANALYTICS_WRITE: Final = Event("analytics.write")
ANALYTICS_READ: Final = Event("analytics.read")

# The erasure service logs erasure.schedule/cancel/execute itself (callvault.erasure); the
# routes add only refusals, so nothing is logged twice.
ERASURE_SCHEDULE: Final = Event("erasure.schedule", on_success=False)
ERASURE_LIST: Final = Event("erasure.list", on_success=False)
ERASURE_CANCEL: Final = Event("erasure.cancel", on_success=False)

MASTERKEY_LIST: Final = Event("masterkey.list", on_success=False)
MASTERKEY_ROTATE: Final = Event("masterkey.rotate")
CUSTOMERKEY_LIST: Final = Event("customerkey.list", on_success=False)
CUSTOMERKEY_SET: Final = Event("customerkey.set")
CUSTOMERKEY_REMOVE: Final = Event("customerkey.remove")

APIKEY_ISSUE: Final = Event("apikey.issue")
APIKEY_LIST: Final = Event("apikey.list", on_success=False)
APIKEY_READ: Final = Event("apikey.read", on_success=False)
APIKEY_ROTATE: Final = Event("apikey.rotate")
APIKEY_REVOKE: Final = Event("apikey.revoke")

AUDIT_READ: Final = Event("audit.read")
AUDIT_CHECKPOINT: Final = Event("audit.checkpoint", on_success=False)
AUDIT_PROOF: Final = Event("audit.proof", on_success=False)
AUDIT_PUBLIC_KEY: Final = Event("audit.public-key", on_success=False)

POSTURE_READ: Final = Event("posture.read")
POSTURE_DOCUMENT: Final = Event("posture.document")

EVENTS: Final[tuple[Event, ...]] = tuple(
    value for value in dict(globals()).values() if isinstance(value, Event)
)
"""Every event, for the documentation test."""
