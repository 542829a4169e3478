"""Live facts: every check is decided by the home's state, and moves when the state does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from callvault import Vault
from callvault.audit import AuditLog
from callvault.posture.document import build_posture
from callvault.posture.facts import CheckStatus, collect_facts
from callvault.posture.history import PostureHistory
from callvault.transport import ensure_local_tls

from .conftest import lint_report, rotate_at, run_cli, scan_report


def _control(home: Path, control: str, now: datetime | None = None) -> CheckStatus:
    document = build_posture(home, now=now)
    return next(s for c, s in document.controls if c.control == control)


def test_key_inventory_lists_the_live_keys(home: Path) -> None:
    facts = collect_facts(home)
    ids = {k["key_id"] for k in facts.section("keys")["master_keys"]}
    assert {"dev/acme/default", "dev/globex/default"} <= ids
    assert facts.check("keys.rotation").status is CheckStatus.PASS
    assert facts.check("keys.environment_scoped").status is CheckStatus.PASS
    assert facts.environment == "dev"


def test_overdue_key_is_marked_and_fails_its_controls(home: Path) -> None:
    created = datetime.now(UTC)
    rotate_at(home, "dev/acme/default", created + timedelta(days=300))
    later = created + timedelta(days=400)  # acme rotated 100 days ago, globex 400 days old
    facts = collect_facts(home, now=later)
    states = {s["name"]: s for s in facts.section("keys")["schedule"]}
    assert states["dev/acme/default"]["state"] == "ok"
    assert states["dev/globex/default"]["state"] == "overdue"
    assert states["dev/globex/default"]["overdue"] is True
    check = facts.check("keys.rotation")
    assert check.status is CheckStatus.FAIL
    assert "dev/globex/default" in check.evidence
    assert "dev/acme/default" not in check.evidence
    assert _control(home, "SC-12", later) is CheckStatus.FAIL
    assert _control(home, "164.312(a)(2)(iv)", later) is CheckStatus.FAIL
    markdown = build_posture(home, now=later).markdown()
    row = next(line for line in markdown.splitlines() if line.startswith("| dev/globex/default"))
    assert "overdue" in row


def test_scan_in_history_flips_the_tls_controls(home: Path) -> None:
    ensure_local_tls(home / "tls")  # serve's certificate, as `callvault serve` makes it
    assert collect_facts(home).check("scan.graded").status is CheckStatus.NO_EVIDENCE
    assert _control(home, "Req 4") is CheckStatus.NO_EVIDENCE  # no scan: not a pass
    history = PostureHistory(home)
    history.record("scan", scan_report("127.0.0.1:8443", passed=True))
    assert collect_facts(home).check("scan.graded").status is CheckStatus.PASS
    assert _control(home, "Req 4") is CheckStatus.PASS
    history.record("scan", scan_report("127.0.0.1:9443", passed=False))
    check = collect_facts(home).check("scan.graded")
    assert check.status is CheckStatus.FAIL
    assert "127.0.0.1:9443 (F)" in check.evidence
    assert _control(home, "Req 4") is CheckStatus.FAIL


def test_a_scan_graded_against_another_profile_does_not_pass(home: Path) -> None:
    report = scan_report("127.0.0.1:8443", passed=True)
    report["grades"] = {"mozilla-intermediate": report["grades"]["callvault-modern"]}
    PostureHistory(home).record("scan", report)
    assert collect_facts(home).check("scan.graded").status is CheckStatus.FAIL


def test_lint_findings_decide_the_lint_check(home: Path) -> None:
    history = PostureHistory(home)
    history.record("lint", lint_report("/srv/deploy", []))
    assert collect_facts(home).check("lint.clean").status is CheckStatus.PASS
    low = {"check": "x", "severity": "low", "file": "a", "line": 1, "message": "m", "fix": "f"}
    history.record("lint", lint_report("/srv/deploy", [low]))
    assert collect_facts(home).check("lint.clean").status is CheckStatus.PASS
    high = {**low, "check": "tls.legacy-protocols", "severity": "high", "file": "nginx.conf"}
    history.record("lint", lint_report("/srv/deploy", [low, high]))
    check = collect_facts(home).check("lint.clean")
    assert check.status is CheckStatus.FAIL
    assert "tls.legacy-protocols (nginx.conf)" in check.evidence


def test_tampered_audit_log_fails_the_audit_control(home: Path) -> None:
    assert collect_facts(home).check("audit.verified").status is CheckStatus.PASS
    assert _control(home, "Art. 17") is CheckStatus.PASS
    path = AuditLog.for_vault(Vault.open_home(home)).store.log_path
    data = bytearray(path.read_bytes())
    data[-3] ^= 1
    path.write_bytes(bytes(data))
    check = collect_facts(home).check("audit.verified")
    assert check.status is CheckStatus.FAIL
    assert "first bad entry" in check.evidence
    assert _control(home, "Art. 17") is CheckStatus.FAIL


def test_allowlist_is_read_back_from_openssl(home: Path) -> None:
    tls = collect_facts(home).section("tls")
    assert [s["iana"] for s in tls["enforced_suites"]] == [
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    ]
    assert {s["protocol"] for s in tls["enforced_suites"]} == {"TLSv1.3"}


def test_legacy_interop_profile_fails_tls13_only(home: Path) -> None:
    config = home / "callvault.toml"
    config.write_text('tls_profile = "legacy-interop"\n' + config.read_text())
    facts = collect_facts(home)
    assert facts.check("tls.tls13_only").status is CheckStatus.FAIL
    assert facts.check("tls.allowlist").status is CheckStatus.PASS  # exactly its allowlist
    assert len(facts.section("tls")["enforced_suites"]) == 7
    assert facts.check("tls.legacy_disabled").status is CheckStatus.PASS


def test_hybrid_pq_needs_evidence_of_the_group_offered(home: Path) -> None:
    facts = collect_facts(home)
    pqc = facts.section("pqc")
    assert pqc["configured_in_profile"] is True
    expected = CheckStatus.PASS if pqc["openssl_supports_mlkem"] else CheckStatus.FAIL
    assert facts.check("tls.hybrid_pq").status is expected
    PostureHistory(home).record("scan", scan_report("edge:443", passed=True, hybrid=True))
    assert collect_facts(home).check("tls.hybrid_pq").status is CheckStatus.PASS


def test_overdue_erasure_backlog_fails_the_erasure_check(home: Path) -> None:
    done = run_cli(
        home, "erase", "--tenant", "acme", "--subject", "+15551234567", "--grace-days", "7"
    )
    assert done.returncode == 0, done.stderr
    now = datetime.now(UTC)
    facts = collect_facts(home, now=now)
    assert facts.check("erasure.crypto_shredding").status is CheckStatus.PASS
    assert len(facts.section("erasure")["pending"]) == 1
    late = collect_facts(home, now=now + timedelta(days=9))
    assert late.check("erasure.crypto_shredding").status is CheckStatus.FAIL


def test_facts_hash_is_stable_and_covers_the_state(home: Path) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    first, second = collect_facts(home, now=now), collect_facts(home, now=now)
    assert first.sha256() == second.sha256()
    json.dumps(first.as_json())  # JSON-serialisable
    rotate_at(home, "dev/acme/default", datetime(2029, 6, 1, tzinfo=UTC))
    assert collect_facts(home, now=now).sha256() != first.sha256()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_reading_posture_changes_nothing_in_the_home(home: Path, tmp_path: Path) -> None:
    before = _snapshot(home)
    build_posture(home).pdf()
    assert _snapshot(home) == before
    empty = tmp_path / "empty"
    Vault.init_home(empty)  # never used: no audit log, no keyring yet
    fresh = _snapshot(empty)
    facts = collect_facts(empty)
    assert _snapshot(empty) == fresh
    assert facts.check("audit.verified").status is CheckStatus.NO_EVIDENCE
    assert facts.check("keys.rotation").status is CheckStatus.NO_EVIDENCE
