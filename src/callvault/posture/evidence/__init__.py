"""The evidence bundle: one zip an auditor can check offline with the audit public key.

``export_evidence(vault, out)`` gathers scan and lint reports, key inventory and rotation
log, the key-access extract with inclusion proofs, certificate inventory, the audit-log
verification and a signed checkpoint, the egress report and the posture document, with a
manifest of SHA-256 hashes signed by the audit checkpoint key; ``verify_evidence`` checks
it. The format is specified in docs/posture/evidence.md.
"""

from callvault.posture.evidence._export import ExportResult, export_evidence
from callvault.posture.evidence._manifest import (
    KEY_MEMBER,
    MANIFEST_FORMAT,
    MANIFEST_MEMBER,
    SIGNATURE_MEMBER,
)
from callvault.posture.evidence._verify import EvidenceVerification, Failure, verify_evidence

__all__ = [
    "KEY_MEMBER",
    "MANIFEST_FORMAT",
    "MANIFEST_MEMBER",
    "SIGNATURE_MEMBER",
    "EvidenceVerification",
    "ExportResult",
    "Failure",
    "export_evidence",
    "verify_evidence",
]
