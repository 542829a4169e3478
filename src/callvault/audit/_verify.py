"""``verify``: recompute the log from its file and say exactly what is wrong, and where.

Checks, in order: every frame is complete (a torn final frame is a crash's unacknowledged
write: a warning); each entry's framed sequence number equals its position (deleted,
inserted or reordered entries shift it); each entry opens *as the entry at its position*
(modified bytes, a forged entry or one moved with its number rewritten fail); the leaf index
agrees with the log; every signed checkpoint verifies under the audit key, is not larger
than the log (truncation) and is consistent with the recomputed tree (an RFC 9162
consistency proof from the checkpoint to the current tree, as a witness would check it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callvault.audit._entry import AuditEntry
from callvault.audit._log import AuditLog
from callvault.audit._merkle import (
    consistency_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
)
from callvault.audit._note import NoteVerifier, parse_checkpoint
from callvault.audit._store import read_frames
from callvault.errors import CallvaultError, OpenError

__all__ = ["Finding", "VerifyReport", "verify_log"]

_MAX_LISTED = 50


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    """``sequence``, ``modified``, ``index``, ``truncated``, ``checkpoint`` or ``torn``."""
    index: int | None
    """The entry where the problem shows (``None``: not tied to one entry)."""
    message: str


@dataclass(slots=True)
class VerifyReport:
    entries: int = 0
    root: str = ""
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    total_findings: int = 0

    @property
    def ok(self) -> bool:
        return self.total_findings == 0

    def add(self, finding: Finding) -> None:
        self.total_findings += 1
        if len(self.findings) < _MAX_LISTED:
            self.findings.append(finding)

    def first_bad_index(self) -> int | None:
        indices = [f.index for f in self.findings if f.index is not None]
        return min(indices) if indices else None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "root": self.root,
            "checkpoints": self.checkpoints,
            "first_bad_index": self.first_bad_index(),
            "total_findings": self.total_findings,
            "findings": [_finding_json(f) for f in self.findings],
            "warnings": [_finding_json(f) for f in self.warnings],
        }


def _finding_json(f: Finding) -> dict[str, Any]:
    return {"kind": f.kind, "index": f.index, "message": f.message}


def verify_log(log: AuditLog, trusted: NoteVerifier | None = None) -> VerifyReport:
    """Verify the whole log; ``trusted`` pins the checkpoint key (default: the log's own,
    after checking it against the KMS-wrapped private key)."""
    report = VerifyReport()
    frames = read_frames(log.store.read_log())
    report.entries = len(frames.payloads)
    if frames.torn_at is not None:
        report.warnings.append(
            Finding("torn", report.entries, f"incomplete final frame at byte {frames.torn_at}")
        )
    _check_entries(log, frames.payloads, report)
    leaves = [leaf_hash(p) for p in frames.payloads]
    root = root_hash(leaves)
    report.root = root.hex()
    _check_index(log.store.leaf_hashes(), leaves, report)
    if trusted is None:
        log.keys.signer()  # raises unless log.json's public key is the KMS-held key's
        trusted = log.verifier()
    _check_checkpoints(log, trusted, leaves, root, report)
    return report


def _check_entries(log: AuditLog, payloads: list[bytes], report: VerifyReport) -> None:
    for position, payload in enumerate(payloads):
        framed = log.keys.framed_seq(payload)
        if framed != position:
            report.add(
                Finding(
                    "sequence",
                    position,
                    f"entry at position {position} carries sequence number {framed}: "
                    "entries were deleted, inserted or reordered",
                )
            )
            continue
        try:
            entry = AuditEntry.decode(log.keys.open(position, payload))
        except (OpenError, CallvaultError, ValueError, KeyError, TypeError):
            report.add(
                Finding(
                    "modified",
                    position,
                    f"entry {position} does not authenticate at its position: "
                    "modified, forged or moved",
                )
            )
            continue
        if entry.seq != position:  # unreachable without the log key; checked all the same
            report.add(Finding("sequence", position, f"entry {position} says seq {entry.seq}"))


def _check_index(indexed: list[bytes], leaves: list[bytes], report: VerifyReport) -> None:
    if len(indexed) > len(leaves):
        report.add(
            Finding(
                "truncated",
                len(leaves),
                f"the leaf index lists {len(indexed)} entries but the log holds "
                f"{len(leaves)}: entries from {len(leaves)} on were removed",
            )
        )
    for i, (kept, actual) in enumerate(zip(indexed, leaves, strict=False)):
        if kept != actual:
            report.add(Finding("index", i, f"entry {i} differs from its indexed leaf hash"))
            break


def _check_checkpoints(
    log: AuditLog, trusted: NoteVerifier, leaves: list[bytes], root: bytes, report: VerifyReport
) -> None:
    size = len(leaves)
    for path, note in log.checkpoint_notes():
        try:
            point = parse_checkpoint(trusted.open(note))
        except CallvaultError as exc:
            report.add(Finding("checkpoint", None, f"{path.name}: {exc}"))
            continue
        report.checkpoints += 1
        if point.origin != log.origin:
            report.add(Finding("checkpoint", None, f"{path.name}: origin {point.origin!r}"))
        elif point.size > size:
            report.add(
                Finding(
                    "truncated",
                    size,
                    f"signed checkpoint of {point.size} entries but the log holds {size}: "
                    f"entries from {size} on were removed",
                )
            )
        elif not verify_consistency(
            point.size, size, point.root, root, consistency_proof(point.size, leaves)
        ):
            first = report.first_bad_index()
            where = f" (first bad entry: {first})" if first is not None else ""
            report.add(
                Finding(
                    "checkpoint",
                    first,
                    f"the log is not consistent with signed checkpoint {point.size}: "
                    f"entries before {point.size} were changed{where}",
                )
            )
