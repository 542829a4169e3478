"""The tamper-evident audit log: encrypted entries in an RFC 9162 Merkle tree, with C2SP
signed checkpoints a witness can check with standard tooling. See docs/audit.md."""

from callvault.audit._entry import AuditEntry
from callvault.audit._log import AUDIT_DIR, DEFAULT_AUDIT_POLICY, AuditLog, AuditPolicy
from callvault.audit._merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from callvault.audit._note import Checkpoint, NoteVerifier, parse_checkpoint, sign_note
from callvault.audit._sink import AuditKeyEvents
from callvault.audit._verify import Finding, VerifyReport, verify_log
from callvault.audit._wiring import attach_audit

__all__ = [
    "AUDIT_DIR",
    "DEFAULT_AUDIT_POLICY",
    "AuditEntry",
    "AuditKeyEvents",
    "AuditLog",
    "AuditPolicy",
    "Checkpoint",
    "Finding",
    "NoteVerifier",
    "VerifyReport",
    "attach_audit",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "parse_checkpoint",
    "root_hash",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
