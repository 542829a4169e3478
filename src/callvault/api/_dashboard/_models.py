"""The posture overview's JSON (``GET /v1/posture/overview``) as typed, documented models.

Every string in it is *data* (tenant ids, scan targets, finding messages, certificate
subjects, an error text): the dashboard writes each one with ``textContent``. Nothing here
is a key, a token or plaintext: it is the posture facts (metadata) and scan reports, which
are already readable by the roles that may call the route.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OVERVIEW_FORMAT",
    "AuditState",
    "CheckResult",
    "ControlResult",
    "DueKey",
    "ExpiringCertificate",
    "Grade",
    "OverviewGrade",
    "PendingErasure",
    "PostureOverview",
    "ScanFinding",
    "ScanSummary",
]

OVERVIEW_FORMAT = "callvault.posture.overview/v1"

Status = Literal["pass", "fail", "no-evidence"]
Grade = Literal["A+", "A", "B", "C", "F"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverviewGrade(_Out):
    grade: Grade = Field(
        description="Worst of the check tiers and the latest scans' grades (docs/api.md)"
    )
    label: str = Field(description="The grade in words, for people and screen readers")
    reasons: list[str] = Field(description="Why the grade is not better; empty for A+")


class CheckResult(_Out):
    id: str
    title: str
    status: Status
    evidence: str = Field(description="What the status rests on, in one line")


class DueKey(_Out):
    name: str = Field(description="Key id (master keys), or the signing key / certificate")
    kind: str
    age_days: float
    next_due: str = Field(description="RFC 3339: when it must be rotated")
    state: Literal["due soon", "overdue"]


class ScanFinding(_Out):
    rule: str
    severity: str
    message: str


class ScanSummary(_Out):
    target: str = Field(description="host:port as scanned (data: rendered as text)")
    server_name: str | None
    scanned_at: str | None
    profile: str = Field(description="The profile graded here: callvault-<tls_profile>")
    grade: str | None = Field(description="null: the report has no grade for that profile")
    passed: bool
    findings: list[ScanFinding]
    other_grades: dict[str, str] = Field(description="Grades against the other profiles")


class PendingErasure(_Out):
    id: str
    tenant: str
    kind: str
    state: str
    due_at: str
    in_grace: bool = Field(description="True until due_at: it can still be cancelled")


class AuditState(_Out):
    status: Status
    ok: bool = Field(description="The log verified end to end")
    entries: int
    checkpoints: int | None
    first_bad_index: int | None
    total_findings: int
    error: str | None = Field(description="Why the log could not be read at all, if so")
    evidence: str


class ExpiringCertificate(_Out):
    role: str = Field(description="root, intermediate, service or serve-tls")
    subject: str
    spiffe_id: str | None
    serial: str | None
    not_after: str | None = Field(description="RFC 3339; null for serve-tls (see subject)")
    days_left: float | None = Field(description="Negative once expired; null for serve-tls")
    status: str = Field(description="valid, expired, revoked, not-yet-valid")
    reason: str = Field(description="Why it is listed")


class ControlResult(_Out):
    framework: str
    control: str
    title: str
    status: Status


class PostureOverview(_Out):
    format: Literal["callvault.posture.overview/v1"] = "callvault.posture.overview/v1"
    generated_at: str = Field(description="When the facts were collected (RFC 3339 UTC)")
    cache_seconds: float = Field(description="Responses reuse one collection this long")
    environment: str
    facts_sha256: str = Field(description="Hash of the posture facts this view rests on")
    grade: OverviewGrade
    checks: list[CheckResult]
    keys_due: list[DueKey] = Field(description="Keys and certificates due soon or overdue")
    keys_scheduled: int = Field(description="How many keys the cadence tracks in total")
    scans: list[ScanSummary] = Field(description="The newest scan per target")
    erasures: list[PendingErasure] = Field(description="Scheduled or running erasures")
    audit: AuditState
    certificates: list[ExpiringCertificate] = Field(
        description="Certificates expired, revoked or nearing expiry"
    )
    certificate_horizon_days: int
    controls: list[ControlResult] = Field(description="Compliance mapping, pass/fail")
    unusable_reports: int = Field(description="History files skipped as corrupt or edited")
