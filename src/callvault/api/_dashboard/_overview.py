"""``build_overview``: the dashboard's posture view, derived from the live posture facts.

Everything comes from ``callvault.posture.facts.collect_facts`` (the same snapshot the
posture document is built from) and the newest scan report per target from the posture
history; this module only selects and reshapes, so the dashboard can never say something
the posture document would not. Selection rules (docs/api.md, "The dashboard"):

* keys: the cadence schedule's entries that are ``due soon`` or ``overdue``;
* erasures: every scheduled or running request, ``in_grace`` until its due time;
* certificates: the internal CA's root and intermediate when not valid or within the
  expiry horizon (``[rotation] warn_days``); each service identity's *newest* certificate
  when not valid or with less than a third of its lifetime left (when the renewer would
  already have replaced it); serve's TLS certificate when its cadence says due or overdue;
* controls: the compliance mapping evaluated like the document does (all checks pass:
  pass; one fails: fail; else no-evidence); a control naming an unknown check fails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callvault.api._dashboard._grade import overview_grade
from callvault.api._dashboard._models import (
    AuditState,
    CheckResult,
    ControlResult,
    DueKey,
    ExpiringCertificate,
    PendingErasure,
    PostureOverview,
    ScanFinding,
    ScanSummary,
)
from callvault.posture.document import combine, load_mapping
from callvault.posture.facts import CheckStatus, PostureFacts
from callvault.transport.ca import RENEW_WHEN_REMAINING

__all__ = ["build_overview"]

_DUE = ("due soon", "overdue")
_SERVE_TLS = "TLS certificate"  # keys._cadence.KeyKind.TLS as the schedule shows it


def _rfc3339(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _days(later: datetime, now: datetime) -> float:
    return round((later - now).total_seconds() / 86400, 2)


def _keys_due(schedule: list[dict[str, Any]]) -> list[DueKey]:
    return [
        DueKey(
            name=str(s["name"]),
            kind=str(s["kind"]),
            age_days=float(s["age_days"]),
            next_due=str(s["next_due"]),
            state=s["state"],
        )
        for s in schedule
        if s.get("state") in _DUE
    ]


def _dict(value: Any) -> dict[str, Any]:
    """A report field that should be an object; anything else reads as empty."""
    return value if isinstance(value, dict) else {}


def _scan(report: dict[str, Any], profile: str) -> ScanSummary:
    grades = _dict(report.get("grades"))
    own = _dict(grades.get(profile))
    findings = [
        ScanFinding(
            rule=str(f.get("rule", "?")),
            severity=str(f.get("severity", "?")),
            message=str(f.get("message", "")),
        )
        for f in own.get("findings") or []
        if isinstance(f, dict)
    ]
    return ScanSummary(
        target=str(report["target"]),
        server_name=_text(report.get("server_name")),
        scanned_at=_text(report.get("scanned_at")),
        profile=profile,
        grade=_text(own.get("grade")),
        passed=own.get("passed") is True,
        findings=findings,
        other_grades={
            str(p): str(_dict(g).get("grade")) for p, g in sorted(grades.items()) if p != profile
        },
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _erasures(pending: list[dict[str, Any]], now: datetime) -> list[PendingErasure]:
    return [
        PendingErasure(
            id=str(e["id"]),
            tenant=str(e["tenant"]),
            kind=str(e["kind"]),
            state=str(e["state"]),
            due_at=str(e["due_at"]),
            in_grace=datetime.fromisoformat(str(e["due_at"])) > now,
        )
        for e in pending
    ]


def _audit(facts: dict[str, Any], check: CheckResult) -> AuditState:
    result = facts.get("verification") or {}
    return AuditState(
        status=check.status,
        ok=result.get("ok") is True and facts.get("error") is None,
        entries=int(result.get("entries") or 0),
        checkpoints=result.get("checkpoints"),
        first_bad_index=result.get("first_bad_index"),
        total_findings=int(result.get("total_findings") or 0),
        error=facts.get("error"),
        evidence=check.evidence,
    )


def _certificate(cert: dict[str, Any], now: datetime, reason: str) -> ExpiringCertificate:
    not_after = datetime.fromisoformat(cert["not_after"])
    return ExpiringCertificate(
        role=str(cert["role"]),
        subject=str(cert["subject"]),
        spiffe_id=cert.get("spiffe_id"),
        serial=str(cert["serial"]),
        not_after=_rfc3339(not_after),
        days_left=_days(not_after, now),
        status=str(cert["status"]),
        reason=reason,
    )


def _ca_certificates(facts: dict[str, Any], now: datetime) -> list[ExpiringCertificate]:
    inventory = facts.get("inventory") or {}
    horizon = int(facts.get("expiry_horizon_days", 30))
    found: list[ExpiringCertificate] = []
    newest: dict[str, dict[str, Any]] = {}
    for cert in inventory.get("certificates", []):
        if cert["role"] == "service":
            name = str(cert.get("spiffe_id") or cert["subject"])
            if name not in newest or cert["not_before"] > newest[name]["not_before"]:
                newest[name] = cert
            continue
        left = datetime.fromisoformat(cert["not_after"]) - now
        if cert["status"] != "valid":
            found.append(_certificate(cert, now, f"{cert['role']} CA is {cert['status']}"))
        elif left.days < horizon:
            found.append(_certificate(cert, now, f"expires within {horizon} days"))
    for cert in newest.values():
        start = datetime.fromisoformat(cert["not_before"])
        end = datetime.fromisoformat(cert["not_after"])
        if cert["status"] != "valid":
            found.append(_certificate(cert, now, f"newest certificate is {cert['status']}"))
        elif end - now < (end - start) * RENEW_WHEN_REMAINING:
            found.append(_certificate(cert, now, "less than a third of its lifetime left"))
    return found


def _serve_certificates(schedule: list[dict[str, Any]]) -> list[ExpiringCertificate]:
    return [
        ExpiringCertificate(
            role="serve-tls",
            subject=str(s["name"]),
            spiffe_id=None,
            serial=None,
            not_after=None,
            days_left=None,
            status=str(s["state"]),
            reason=f"rotation {s['state']}: due {s['next_due']} (renewed at serve start)",
        )
        for s in schedule
        if s.get("kind") == _SERVE_TLS and s.get("state") in _DUE
    ]


def _controls(checks: dict[str, CheckStatus]) -> list[ControlResult]:
    out = []
    for control in load_mapping().controls:
        statuses = [checks.get(i, CheckStatus.FAIL) for i in control.checks]
        out.append(
            ControlResult(
                framework=control.framework,
                control=control.control,
                title=control.title,
                status=combine(statuses).value,
            )
        )
    return out


def build_overview(
    facts: PostureFacts, scans: list[dict[str, Any]], profile: str, cache_seconds: float
) -> PostureOverview:
    """The overview of ``facts`` and the newest ``scans`` (graded against ``profile``)."""
    now = facts.generated_at
    checks = [
        CheckResult(id=c.id, title=c.title, status=c.status.value, evidence=c.evidence)
        for c in facts.checks
    ]
    keys = facts.section("keys")
    summaries = [_scan(r, profile) for r in scans]
    missing = CheckResult(
        id="audit.verified", title="audit", status="fail", evidence="no audit check in the facts"
    )
    audit_check = next((c for c in checks if c.id == "audit.verified"), missing)  # fail closed
    return PostureOverview(
        generated_at=_rfc3339(now),
        cache_seconds=cache_seconds,
        environment=facts.environment,
        facts_sha256=facts.sha256(),
        grade=overview_grade(checks, summaries),
        checks=checks,
        keys_due=_keys_due(keys["schedule"]),
        keys_scheduled=len(keys["schedule"]),
        scans=summaries,
        erasures=_erasures(facts.section("erasure")["pending"], now),
        audit=_audit(facts.section("audit"), audit_check),
        certificates=[
            *_ca_certificates(facts.section("certificates"), now),
            *_serve_certificates(keys["schedule"]),
        ],
        certificate_horizon_days=int(facts.section("certificates").get("expiry_horizon_days", 0)),
        controls=_controls({c.id: c.status for c in facts.checks}),
        unusable_reports=len(facts.section("history")["unusable_reports"]),
    )
