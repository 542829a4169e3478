"""Sections about procedures and proof: erasure, incident response, the PQC plan, the
compliance mapping, the procurement checklist and the evidence index."""

from __future__ import annotations

from typing import Any

from callvault.posture.document._blocks import Block, Bullets, Code, Heading, Paragraph, Table
from callvault.posture.document._mapping import Checklist, Control
from callvault.posture.facts import CheckStatus, PostureFacts

__all__ = ["checklist", "compliance", "erasure", "evidence", "incident", "pqc"]

_ANSWER = {
    CheckStatus.PASS: "Yes, evidenced",
    CheckStatus.FAIL: "No (see failing checks)",
    CheckStatus.NO_EVIDENCE: "Not evidenced yet",
}


def erasure(facts: PostureFacts) -> list[Block]:
    e = facts.section("erasure")
    pending = tuple(
        (p["id"], p["tenant"], p["kind"], p["state"], p["due_at"][:19]) for p in e["pending"]
    )
    blocks: list[Block] = [
        Heading(2, "Erasure procedure", "erasure"),
        Bullets(
            (
                "Request: callvault erase --tenant T (--subject S | --record ID | --all) "
                f"[--grace-days N], grace {e['grace_days']['min']} to {e['grace_days']['max']} "
                "days, cancellable (callvault erasures cancel).",
                "Before any key goes, a signed tombstone is appended to the ledger at "
                f"{e['tombstones_dir']} (never in backups, re-applied on restore).",
                "When due: the subject, record or tenant keys are destroyed (crypto-shredding), "
                "then objects and rows are deleted.",
                "An audit entry and a signed erasure receipt are written "
                "(callvault erasures verify-receipt checks one).",
                f"Due requests run automatically in serve: {'on' if e['auto'] else 'off'} "
                f"(every {e['check_seconds']} s), or with callvault erasures run-due.",
            ),
            ordered=True,
        ),
        Paragraph(
            "Requests by state: "
            + (", ".join(f"{k} {v}" for k, v in e["requests_by_state"].items()) or "none")
            + "."
        ),
    ]
    if pending:
        blocks.append(Table(("erasure", "tenant", "kind", "state", "due (UTC)"), pending))
    blocks.append(
        Paragraph(
            f"Check erasure.crypto_shredding: "
            f"{facts.check('erasure.crypto_shredding').status.value}."
        )
    )
    return blocks


def incident(_: PostureFacts) -> list[Block]:
    return [
        Heading(2, "Incident response for key compromise", "incident"),
        Paragraph("Each step is a real command of this installation; each is audited."),
        Table(
            ("compromised", "response"),
            (
                (
                    "a tenant master key version",
                    "callvault keys revoke --tenant T [--class C] --version N (re-encrypts what "
                    "it wrapped, re-keys subject keys, retires it and older versions; "
                    "--dry-run first)",
                ),
                (
                    "suspected exposure, no proof",
                    "callvault keys rotate --tenant T [--class C], then callvault keys rewrap",
                ),
                ("an old version still in use", "callvault keys retire after keys rewrap"),
                (
                    "an internal service certificate",
                    "callvault ca revoke SERIAL|SERVICE --reason key-compromise; renewal reissues",
                ),
                (
                    "the JWT signing key",
                    "callvault keys rotate-due (signing key rotates when "
                    "due); tokens under the old key are accepted only during the grace period",
                ),
                (
                    "a customer-managed key",
                    "the customer disables it in its own KMS: the data "
                    "it protects becomes unreadable when the key cache lets go",
                ),
                ("the audit log", "callvault audit verify names the first tampered entry"),
            ),
        ),
        Code(
            (
                "callvault keys revoke --tenant acme --version 1 --dry-run",
                "callvault keys revoke --tenant acme --version 1",
                "callvault ca revoke keyd --reason key-compromise",
                "callvault audit verify",
            )
        ),
    ]


def pqc(facts: PostureFacts) -> list[Block]:
    p = facts.section("pqc")
    check = facts.check("tls.hybrid_pq")
    return [
        Heading(2, "Post-quantum migration plan", "pqc"),
        Paragraph(
            f"Hybrid group {p['group']}: configured in the TLS profile: "
            f"{'yes' if p['configured_in_profile'] else 'no'}; supported by the linked "
            f"{p['openssl']}: {'yes' if p['openssl_supports_mlkem'] else 'no'}; seen offered "
            f"by a scan: {', '.join(p['scans_offering_hybrid']) or 'no'}. "
            f"Status: {check.status.value} ({check.evidence})."
        ),
        Bullets(tuple(p["plan"])),
    ]


def compliance(facts: PostureFacts, controls: list[tuple[Control, CheckStatus]]) -> list[Block]:
    rows = tuple(
        (
            c.framework,
            c.control,
            c.title,
            ", ".join(f"{i} ({facts.check(i).status.value})" for i in c.checks),
            status.value,
        )
        for c, status in controls
    )
    return [
        Heading(2, "Compliance mapping", "compliance"),
        Paragraph(
            "A control passes only when every check it lists passes; a check without "
            "evidence leaves it at no-evidence, which is not a pass."
        ),
        Table(
            ("framework", "control", "requirement", "supporting checks", "result"),
            rows,
            status_column=4,
        ),
    ]


def checklist(
    facts: PostureFacts, answers: list[tuple[Any, CheckStatus]], data: Checklist
) -> list[Block]:
    keys = facts.section("keys")["cadence_days"]
    blocks: list[Block] = [
        Heading(2, "Procurement checklist", "checklist"),
        Paragraph(f"The seed's ten questions ({data.source})."),
    ]
    for question, status in answers:
        cited = "; ".join(
            f"{i}: {facts.check(i).status.value}, {facts.check(i).evidence}"
            for i in question.checks
        )
        extra = ""
        if question.n == 5:
            extra = (
                f" Cadence: master keys {keys['master_key']} days, backup keys "
                f"{keys['backup_key']} days, JWT signing key {keys['signing_key']} days, "
                f"TLS certificates {keys['tls_certificate']} days, data keys per object."
            )
        blocks.append(Heading(3, f"{question.n}. {question.question}", f"q{question.n}"))
        blocks.append(Paragraph(f"Answer: {_ANSWER[status]}. {question.statement}{extra}"))
        blocks.append(Paragraph(f"Evidence: {cited}."))
    return blocks


def evidence(facts: PostureFacts) -> list[Block]:
    rows = tuple((c.id, c.status.value, c.title, c.evidence, c.source) for c in facts.checks)
    history = facts.section("history")
    certs = facts.section("certificates")
    audit = facts.section("audit")["verification"]
    inventory = certs.get("inventory") or {}
    return [
        Heading(2, "Evidence index", "evidence"),
        Table(("check", "status", "statement", "evidence", "source"), rows, status_column=1),
        Paragraph(
            f"Audit log: {audit.get('entries', 0)} entries, ok={audit.get('ok')}, "
            f"root {audit.get('root') or '-'}."
        ),
        Paragraph(
            f"Certificates: {len(inventory.get('certificates', []))} in the internal CA "
            f"inventory; CA expires {certs.get('ca_expires') or '-'}."
        ),
        Paragraph(
            f"Scans recorded: {len(history['scans'])}; lint reports recorded: "
            f"{len(history['lint'])}; unusable history files: "
            f"{len(history['unusable_reports'])}."
        ),
    ]
