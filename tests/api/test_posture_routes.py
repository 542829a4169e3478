"""``GET /v1/posture/overview``: who may read it (and that every read and refusal is in the
audit log), that its content is the live system's (an overdue key, a recorded scan with its
findings, an erasure in grace, a CA near expiry, a tampered audit log), the grade rule, and
the cache that keeps one collection per period however often the page is loaded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment, Vault
from callvault.api import ApiServices
from callvault.api._dashboard._cache import OverviewCache
from callvault.api._dashboard._grade import overview_grade
from callvault.api._dashboard._models import CheckResult, ScanSummary
from callvault.api.routes.posture import STATE_ATTRIBUTE
from callvault.audit import AuditLog
from callvault.keys.providers import LocalKms
from callvault.keys.providers._root_key import resolve_root_key
from callvault.posture.history import PostureHistory
from callvault.transport.ca import InternalCa

HOSTILE = '<img src=x onerror="alert(1)">'
PROFILE = "callvault-modern"


def scan_report(target: str, grade: str, findings: list[dict[str, str]]) -> dict[str, Any]:
    """A report in the shared ``callvault.scan/v1`` shape, as ``callvault scan`` records."""
    return {
        "format": "callvault.scan/v1",
        "target": target,
        "server_name": "localhost",
        "scanned_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "protocols": {
            "SSLv3": False,
            "TLSv1": grade == "F",
            "TLSv1.1": False,
            "TLSv1.2": False,
            "TLSv1.3": True,
        },
        "suites": {"TLSv1.3": ["TLS_AES_256_GCM_SHA384"]},
        "groups": ["X25519"],
        "hybrid_pq": False,
        "forward_secrecy": True,
        "certificate": {},
        "hsts": None,
        "grades": {
            PROFILE: {"grade": grade, "passed": grade in ("A+", "A", "B"), "findings": findings},
            "mozilla-intermediate": {"grade": "A", "passed": True, "findings": []},
        },
    }


LEGACY = [
    {"rule": "protocol.tls10", "severity": "critical", "message": "TLS 1.0 accepted"},
    {"rule": "suite.cbc", "severity": "high", "message": f"CBC suite accepted {HOSTILE}"},
]


@dataclass
class Scenario:
    """What ``plant`` put in a home, for the assertions."""

    overdue_key: str
    hostile_target: str
    good_target: str
    intermediate_serial: str
    service_serial: str


def plant(vault: Vault, ca_root: Path) -> Scenario:
    """Live state with one of each thing the dashboard must show: a master key last rotated
    400 days ago (the local KMS's clock moved back, as the rotation tests do), a passing
    and a failing scan (the failing one under a hostile target), an internal CA created 340
    days ago (its 365-day intermediate is within the 30-day horizon) with a service
    certificate that has less than a third of its lifetime left."""
    home = vault.home
    past = datetime.now(UTC) - timedelta(days=400)
    kms = LocalKms(
        home / "keys" / "keyring.cvkr", resolve_root_key(home), Environment.DEV, clock=lambda: past
    )
    kms.rotate_key("dev/acme/default")
    history = PostureHistory(home)
    history.record("scan", scan_report("127.0.0.1:8443", "A", []))
    history.record("scan", scan_report(HOSTILE, "F", LEGACY))
    created = datetime.now(UTC) - timedelta(days=340)
    InternalCa.init(home / "ca", ca_root, clock=lambda: created)
    issued_at = datetime.now(UTC) - timedelta(minutes=50)
    ca = InternalCa.open(home / "ca", clock=lambda: issued_at)
    service = ca.issue("keyd", ttl="1h")
    inventory = InternalCa.open(home / "ca").inventory()
    intermediate = next(i for i, _ in inventory.certificates if i.role == "intermediate")
    return Scenario(
        "dev/acme/default", HOSTILE, "127.0.0.1:8443", intermediate.serial, service.serial
    )


@pytest.fixture
def server(vault: Vault, start_server: Callable[..., Any]) -> Any:
    return start_server(vault, ApiServices.embedded(vault))


def _entries(server: Any, action: str) -> list[Any]:
    return [e for e in AuditLog.for_vault(server.vault).entries() if e.action == action]


# -- who may read it -----------------------------------------------------------------------


def test_only_auditor_and_platform_admin_may_read(server: Any) -> None:
    for role in ("auditor", "platform-admin"):
        with server.client(server.token(role)) as client:
            response = client.get("/v1/posture/overview")
        assert response.status_code == 200, response.text
        assert response.json()["format"] == "callvault.posture.overview/v1"
    for role in ("tenant-admin", "service"):
        with server.client(server.token(role, "acme")) as client:
            response = client.get("/v1/posture/overview")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    with server.client() as client:
        assert client.get("/v1/posture/overview").status_code == 401
    with server.client("not.a.token") as client:
        assert client.get("/v1/posture/overview").status_code == 401

    logged = [(e.actor.split("/")[0], e.outcome) for e in _entries(server, "posture.read")]
    assert logged == [
        ("auditor", "ok"),
        ("platform-admin", "ok"),
        ("tenant-admin", "denied"),
        ("service", "denied"),
    ]  # no 401s


def test_the_posture_document_in_every_format_from_the_overview_facts(
    server: Any, tmp_path: Path
) -> None:
    plant(server.vault, tmp_path / "root")
    with server.client(server.token("auditor")) as client:
        overview = client.get("/v1/posture/overview").json()
        as_json = client.get("/v1/posture")
        markdown = client.get("/v1/posture", params={"format": "md"})
        html = client.get("/v1/posture", params={"format": "html"})
        pdf = client.get("/v1/posture", params={"format": "pdf"})
        bad = client.get("/v1/posture", params={"format": "docx"})
    assert as_json.status_code == 200 and as_json.headers["cache-control"] == "no-store"
    document = as_json.json()
    assert "dev/acme/default" in as_json.text and document["controls"]
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "dev/acme/default" in markdown.text
    assert html.headers["content-security-policy"].startswith("default-src 'none'")
    assert HOSTILE not in html.text and "&lt;img" in html.text  # the target is escaped
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert bad.status_code == 400
    # One snapshot: the document says what the dashboard shows, and the log names it.
    details = [e.detail for e in _entries(server, "posture.document") if e.outcome == "ok"]
    assert [d["format"] for d in details] == ["json", "md", "html", "pdf"]
    assert {d["facts"] for d in details} == {overview["facts_sha256"]}
    with server.client(server.token("service", "acme")) as client:
        assert client.get("/v1/posture").status_code == 403
    assert [e.outcome for e in _entries(server, "posture.document")][-1] == "denied"


# -- content from the live system ------------------------------------------------------------


def test_overview_shows_the_live_state(server: Any, tmp_path: Path) -> None:
    planted = plant(server.vault, tmp_path / "root")
    with server.client(server.token("tenant-admin", "acme")) as client:
        created = client.post(
            "/v1/tenants/acme/erasures", json={"subject": "+15551234567", "grace_days": 7}
        )
    assert created.status_code == 201, created.text
    with server.client(server.token("auditor")) as client:
        view = client.get("/v1/posture/overview").json()

    due = {k["name"]: k for k in view["keys_due"]}
    assert due[planted.overdue_key]["state"] == "overdue"
    assert due[planted.overdue_key]["age_days"] >= 400
    assert "dev/globex/default" not in due  # a fresh key is not listed
    assert view["keys_scheduled"] >= 2

    scans = {s["target"]: s for s in view["scans"]}
    assert set(scans) == {planted.good_target, planted.hostile_target}  # verbatim: data
    bad = scans[planted.hostile_target]
    assert (bad["grade"], bad["passed"], bad["profile"]) == ("F", False, PROFILE)
    assert [(f["rule"], f["severity"]) for f in bad["findings"]] == [
        ("protocol.tls10", "critical"),
        ("suite.cbc", "high"),
    ]
    assert bad["other_grades"] == {"mozilla-intermediate": "A"}
    assert scans[planted.good_target]["grade"] == "A"
    assert scans[planted.good_target]["findings"] == []

    [erasure] = view["erasures"]
    assert erasure["id"] == created.json()["id"]
    assert (erasure["tenant"], erasure["in_grace"]) == ("acme", True)

    certs = {c["serial"]: c for c in view["certificates"]}
    assert certs[planted.intermediate_serial]["role"] == "intermediate"
    assert 0 < certs[planted.intermediate_serial]["days_left"] < 30
    assert certs[planted.service_serial]["spiffe_id"] == "spiffe://callvault.internal/keyd"
    assert certs[planted.service_serial]["reason"] == "less than a third of its lifetime left"
    assert not any(c["role"] == "root" for c in view["certificates"])  # 9 years left

    checks = {c["id"]: c["status"] for c in view["checks"]}
    assert checks["keys.rotation"] == "fail"
    assert checks["mtls.internal_ca"] == "fail"
    assert checks["scan.graded"] == "fail"
    assert view["audit"]["ok"] is True and view["audit"]["status"] == "pass"
    assert view["grade"]["grade"] == "F"  # a scan graded F
    assert view["grade"]["reasons"][0] == f"F: scan {HOSTILE}: F for {PROFILE}"
    assert any(r == "C: keys.rotation: fail" for r in view["grade"]["reasons"])
    hipaa = {(c["framework"], c["control"]): c["status"] for c in view["controls"]}
    assert hipaa[("HIPAA", "164.312(a)(2)(iv)")] == "fail"  # rests on keys.rotation


def test_a_tampered_audit_log_shows_failed_verification(server: Any) -> None:
    with server.client(server.token("auditor")) as client:
        assert client.get("/v1/posture/overview").json()["audit"]["ok"] is True
        path = AuditLog.for_vault(server.vault).store.log_path
        data = bytearray(path.read_bytes())
        data[-3] ^= 1  # inside the last entry's sealed payload
        path.write_bytes(bytes(data))
        delattr(server.app.state, STATE_ATTRIBUTE)  # a fresh cache: collect again
        response = client.get("/v1/posture/overview")
    assert response.status_code == 200, response.text
    audit = response.json()["audit"]
    assert (audit["ok"], audit["status"]) == (False, "fail")
    assert audit["total_findings"] >= 1 and audit["first_bad_index"] is not None
    assert response.json()["grade"]["grade"] == "F"
    assert "F: audit.verified: fail" in response.json()["grade"]["reasons"]


# -- the cache ---------------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_collection_per_period(server: Any) -> None:
    ticks = Ticks()
    cache = OverviewCache(server.vault.home, PROFILE, ttl=30, monotonic=ticks)
    setattr(server.app.state, STATE_ATTRIBUTE, cache)
    with server.client(server.token("auditor")) as client:
        first = client.get("/v1/posture/overview").json()
        PostureHistory(server.vault.home).record("scan", scan_report("new:443", "A", []))
        ticks.now += 29
        assert client.get("/v1/posture/overview").json() == first  # cached: no new scan
        assert cache.collections == 1
        ticks.now += 2
        fresh = client.get("/v1/posture/overview").json()
    assert cache.collections == 2
    assert [s["target"] for s in fresh["scans"]] == ["new:443"]
    assert fresh["cache_seconds"] == 30
    assert len(_entries(server, "posture.read")) == 3  # every read is logged, cached or not


def test_concurrent_requests_share_one_collection(server: Any) -> None:
    cache = OverviewCache(server.vault.home, PROFILE, ttl=60)
    setattr(server.app.state, STATE_ATTRIBUTE, cache)
    token = server.token("platform-admin")
    statuses: list[int] = []

    def fetch() -> None:
        with server.client(token) as client:
            statuses.append(client.get("/v1/posture/overview").status_code)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 6
    assert cache.collections == 1


def test_default_cache_comes_from_the_served_home(server: Any) -> None:
    with server.client(server.token("auditor")) as client:
        view = client.get("/v1/posture/overview").json()
    cache = getattr(server.app.state, STATE_ATTRIBUTE)
    assert (cache.home, cache.ttl, cache.profile) == (server.vault.home, 30.0, PROFILE)
    assert view["cache_seconds"] == 30 and view["environment"] == "dev"
    with pytest.raises(ValueError, match="negative"):
        OverviewCache(server.vault.home, PROFILE, ttl=-1)


# -- the grade rule ----------------------------------------------------------------------------


def _check(check_id: str, status: str) -> CheckResult:
    return CheckResult(id=check_id, title="t", status=status, evidence="e")  # type: ignore[arg-type]


def _scan(grade: str | None) -> ScanSummary:
    return ScanSummary(
        target="h:1",
        server_name=None,
        scanned_at=None,
        profile=PROFILE,
        grade=grade,
        passed=grade in ("A+", "A", "B"),
        findings=[],
        other_grades={},
    )


@pytest.mark.parametrize(
    ("checks", "scans", "expected"),
    [
        ([("keys.rotation", "pass")], ["A+"], "A+"),
        ([("keys.rotation", "pass")], ["A+", "A"], "A"),
        ([("keys.rotation", "pass")], [None], "B"),  # no grade for the enforced profile
        ([("keys.rotation", "pass")], [], "A+"),
        ([("lint.clean", "no-evidence")], ["A"], "B"),
        ([("tls.hybrid_pq", "fail")], ["A"], "B"),  # advisory
        ([("keys.rotation", "fail"), ("tls.hybrid_pq", "fail")], ["A"], "C"),
        ([("some.new_check", "fail")], ["A"], "C"),  # unknown: never ignored
        ([("audit.verified", "fail")], ["A"], "F"),
        ([("keys.rotation", "pass")], ["A", "F"], "F"),
        ([("keys.rotation", "fail")], ["C"], "C"),
    ],
)
def test_grade_rule(checks: list[tuple[str, str]], scans: list[str | None], expected: str) -> None:
    grade = overview_grade([_check(i, s) for i, s in checks], [_scan(g) for g in scans])
    assert grade.grade == expected
    assert grade.label.startswith(expected + ":")
    assert (grade.reasons == []) == (expected == "A+")
