"""Audit evidence: a fresh signed checkpoint, the log's verification result, the key-access
extract and the rotation log, each entry with its leaf hash and inclusion proof.

The export signs a checkpoint of the log as it is now and proves every extracted entry
against it (RFC 9162 inclusion proofs), so an auditor holding only the audit public key
can check that each listed entry is in the log the checkpoint commits to. The leaves are the
sealed entries (see ``callvault.audit``): the proof shows the *sealed* entry is in the log;
that the opened JSON beside it is that entry's content rests on the exporter, who alone
holds the log key. Subjects appear only as the tenant's keyed HMAC, as in the log itself.

Proofs are computed from one memoised pass over the tree (each node hashed once), not one
O(n) walk per entry: an extract of every key event of a month stays linear in the log.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from callvault.audit import AuditLog, verify_log
from callvault.audit._merkle import node_hash
from callvault.posture.evidence._manifest import Member, canonical_json

__all__ = ["ProofTree", "audit_members", "is_rotation_event"]

_LIFECYCLE = frozenset(
    {
        "key.create",
        "key.rotate",
        "key.disable",
        "key.enable",
        "key.set-min-version",
        "key.schedule-deletion",
        "key.cancel-deletion",
        "key.destroy",
        "key.rewrap",
        "key.revoke",
    }
)


def is_rotation_event(action: str) -> bool:
    """Key lifecycle and key administration: what an auditor reads as the rotation log."""
    return (
        action in _LIFECYCLE
        or action.startswith("admin.key.")
        or action.startswith("admin.customer_key.")
    )


class ProofTree:
    """Inclusion proofs for many leaves of one tree (RFC 9162 PATH), nodes memoised."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._leaves = leaves
        self._nodes: dict[tuple[int, int], bytes] = {}

    def node(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self._leaves[start]
        cached = self._nodes.get((start, end))
        if cached is None:
            k = 1 << ((end - start - 1).bit_length() - 1)
            cached = node_hash(self.node(start, start + k), self.node(start + k, end))
            self._nodes[(start, end)] = cached
        return cached

    def proof(self, index: int) -> list[bytes]:
        if not 0 <= index < len(self._leaves):
            raise ValueError("leaf index outside the tree")
        path: list[bytes] = []
        start, end = 0, len(self._leaves)
        while end - start > 1:
            k = 1 << ((end - start - 1).bit_length() - 1)
            if index < start + k:
                path.append(self.node(start + k, end))
                end = start + k
            else:
                path.append(self.node(start, start + k))
                start += k
        path.reverse()  # PATH lists the sibling nearest the leaf first
        return path


def audit_members(log: AuditLog, since: datetime, until: datetime) -> list[Member]:
    """The audit part of the bundle: checkpoint, verification, key access, rotation log."""
    point, note = log.checkpoint()
    leaves = log.leaf_hashes()[: point.size]
    tree = ProofTree(leaves)
    checkpoint = {
        "origin": point.origin,
        "size": point.size,
        "root_hash": base64.b64encode(point.root).decode(),
        "note": "audit/checkpoint.note",
    }
    access: list[dict[str, Any]] = []
    rotation: list[dict[str, Any]] = []
    for entry in log.entries():
        seq = entry.seq
        if seq is None or seq >= point.size:
            break  # appended after the checkpoint: not covered by it
        is_access = entry.action.startswith("key.") and since <= entry.time < until
        is_rotation = is_rotation_event(entry.action)
        if not (is_access or is_rotation):
            continue
        row = entry.as_json()
        row["leaf_hash"] = leaves[seq].hex()
        row["inclusion_proof"] = [h.hex() for h in tree.proof(seq)]
        if is_access:
            access.append(row)
        if is_rotation:
            rotation.append(row)
    report = verify_log(log)  # checks log.json's key against the KMS-held one
    window = {"since": _iso(since), "until": _iso(until)}
    return [
        Member("audit/checkpoint.note", note.encode(), "signed checkpoint of the audit log"),
        Member(
            "audit/verification.json",
            canonical_json({**report.as_json(), "verifier_key": str(log.verifier())}),
            "audit-log verification result (callvault audit verify --json)",
        ),
        Member(
            "audit/key-access.json",
            canonical_json(_extract("key-access", window, checkpoint, access)),
            "key-access log extract (key.* entries in the window) with inclusion proofs",
        ),
        Member(
            "keys/rotation-log.json",
            canonical_json(_extract("rotation-log", None, checkpoint, rotation)),
            "key rotation and key administration entries of the audit log, with proofs",
        ),
    ]


def _extract(
    kind: str, window: dict[str, str] | None, checkpoint: dict[str, Any], rows: list[Any]
) -> dict[str, Any]:
    return {
        "format": f"callvault.evidence.{kind}/v1",
        "window": window,
        "checkpoint": checkpoint,
        "leaf_hash": "RFC 9162: SHA-256(0x00 || sealed entry); proofs against the checkpoint",
        "entries": rows,
    }


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()
