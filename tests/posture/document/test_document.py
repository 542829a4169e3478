"""The document: mapping and checklist as data, Markdown/HTML/PDF renderings of the same
facts, escaping of hostile strings, and a real PDF read back with pypdf."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from callvault.errors import ConfigError
from callvault.posture.document import (
    PostureDocument,
    build_posture,
    combine,
    load_checklist,
    load_mapping,
)
from callvault.posture.document._mapping import resolve
from callvault.posture.facts import CheckStatus, collect_facts
from callvault.posture.history import PostureHistory

from .conftest import scan_report

ARTIFACTS = Path(os.environ.get("CALLVAULT_ARTIFACTS", "/tmp/callvault-artifacts"))
REQUIRED_CONTROLS = {
    ("HIPAA", "164.312(a)(2)(iv)"),
    ("HIPAA", "164.312(e)(2)(ii)"),
    ("PCI DSS 4.0", "Req 3"),
    ("PCI DSS 4.0", "Req 4"),
    ("SOC 2", "CC6.1"),
    ("SOC 2", "CC6.7"),
    ("SOC 2", "CC6.8"),
    ("ISO 27001:2022", "A.8.24"),
    ("ISO 27001:2013", "A.10"),
    ("NIST 800-53", "SC-8"),
    ("NIST 800-53", "SC-12"),
    ("NIST 800-53", "SC-13"),
    ("NIST 800-53", "SC-28"),
    ("GDPR", "Art. 32"),
    ("GDPR", "Art. 17"),
}
HEADINGS = (
    "Algorithms and why",
    "Cipher allowlist enforced",
    "Key hierarchy and key inventory",
    "Customer-managed key options",
    "Erasure procedure",
    "Incident response for key compromise",
    "Post-quantum migration plan",
    "Compliance mapping",
    "Procurement checklist",
    "Evidence index",
)


def test_mapping_covers_every_required_control_with_known_checks(home: Path) -> None:
    mapping = load_mapping()
    assert {(c.framework, c.control) for c in mapping.controls} == REQUIRED_CONTROLS
    facts = collect_facts(home)
    for control in mapping.controls:
        assert control.checks
        resolve(facts, control.checks)  # every id is a real check
    with pytest.raises(ConfigError, match=r"unknown checks: tls\.made_up"):
        resolve(facts, ["tls.allowlist", "tls.made_up"])


def test_combine_never_reads_missing_evidence_as_a_pass() -> None:
    P, F, N = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.NO_EVIDENCE
    assert combine([P, P]) is P
    assert combine([P, N]) is N
    assert combine([N, F, P]) is F
    assert combine([]) is F


def test_checklist_answers_all_ten_questions_with_evidence(home: Path) -> None:
    document = build_posture(home)
    assert [q.n for q, _ in document.answers] == list(range(1, 11))
    markdown = document.markdown()
    for question in load_checklist().questions:
        assert f"### {question.n}. " in markdown
        section = markdown.split(f"### {question.n}. ")[1].split("\n#")[0]
        assert "Answer: " in section and "Evidence: " in section
        for check_id in question.checks:
            assert check_id in section
    q5 = markdown.split("### 5. ")[1].split("\n#")[0]
    assert "master keys 365 days" in q5 and "JWT signing key 90 days" in q5


def test_markdown_carries_live_state_and_the_facts_hash(home: Path) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    document = build_posture(home, now=now)
    markdown = document.markdown()
    for heading in HEADINGS:
        assert f"## {heading}" in markdown
    assert "| dev/acme/default | local |" in markdown
    assert "| dev/globex/default | local |" in markdown
    assert document.facts.sha256() in markdown
    assert "2030-01-01T00:00:00Z" in markdown
    assert str(home) in markdown
    for control, status in document.controls:
        row = next(line for line in markdown.splitlines() if f"| {control.control} |" in line)
        assert all(check_id in row for check_id in control.checks)
        assert row.endswith(f"**{status.value.upper()}** |")
    assert "callvault keys revoke --tenant" in markdown
    assert "X25519MLKEM768" in markdown
    again = build_posture(home, now=now).markdown()
    assert again == markdown  # deterministic apart from the timestamp


HOSTILE = '<script>alert("x")</script>'


def _plant_hostile_tenant(home: Path) -> None:
    """A tenants.json edited behind callvault's back: ids it would never accept."""
    path = home / "tenants.json"
    doc = json.loads(path.read_text())
    doc["tenants"][HOSTILE] = {
        "created_at": "2026-01-01T00:00:00+00:00",
        "dedicated_classes": [],
        "customer_keys": {
            "recording": {
                "provider": "<img src=x onerror=alert(1)>",
                "key_id": "dev/a|b`c/**x**",
                "registered_at": "2026-01-01T00:00:00+00:00",
            }
        },
    }
    path.write_text(json.dumps(doc))


def test_html_escapes_hostile_tenant_ids_and_report_strings(home: Path) -> None:
    _plant_hostile_tenant(home)
    PostureHistory(home).record("scan", scan_report(f"{HOSTILE}:443", passed=False))
    document = build_posture(home)
    page = document.html()
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "default-src 'none'" in page  # CSP: no script even if escaping failed
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "@media print" in page
    markdown = document.markdown()
    assert "<script" not in markdown and "<img" not in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| &lt;script&gt;"))
    assert row.count(" | ") == 3  # the pipe in the key id did not split the cell
    assert "dev/a\\|b\\`c/\\*\\*x\\*\\*" in markdown


def test_pdf_is_a_real_pdf_with_the_headings_and_key_ids(home: Path) -> None:
    _plant_hostile_tenant(home)
    document = build_posture(home)
    data = document.pdf()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None and reader.metadata.title == "callvault encryption posture"
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for heading in HEADINGS:
        assert heading in flat
    assert "dev/acme/default" in flat
    assert "callvault encryption posture" in flat
    assert HOSTILE in flat  # shown as text, not parsed as markup
    assert document.pdf() == data  # same facts, same bytes
    _artifact(data)


def _artifact(pdf: bytes) -> None:
    """The PDF (and its first page as PNG when poppler's pdftoppm exists) for CI."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "posture.pdf"
    target.write_bytes(pdf)
    tool = shutil.which("pdftoppm")
    if tool is not None:
        subprocess.run(
            [
                tool,
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(target),
                str(ARTIFACTS / "posture-page1"),
            ],
            check=True,
            timeout=60,
        )
        assert (ARTIFACTS / "posture-page1.png").stat().st_size > 1000


def test_json_has_facts_controls_and_checklist(home: Path) -> None:
    document: PostureDocument = build_posture(home)
    data = document.as_json()
    assert data["format"] == "callvault.posture/v1"
    assert data["facts_sha256"] == document.facts.sha256()
    assert len(data["controls"]) == 15 and len(data["checklist"]) == 10
    assert {c["id"] for c in data["checks"]} >= {"keys.rotation", "audit.verified", "scan.graded"}
    json.dumps(data)
