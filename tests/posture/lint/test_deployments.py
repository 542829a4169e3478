"""The issue's acceptance: every planted red flag found, nothing in the clean deployment."""

from __future__ import annotations

import json
from pathlib import Path

from callvault.posture.lint import FORMAT, check_ids, lint_path, to_sarif

EXPECTED = {
    ("tls.legacy-protocol", "nginx/nginx.conf"),
    ("tls.weak-suite", "haproxy/haproxy.cfg"),
    ("tls.no-pfs", "apache/ssl.conf"),
    ("cert.dev-ca-in-prod", "tls/server.pem"),
    ("secret.hardcoded", "app/settings.py"),
    ("kms.key-shared-across-envs", "env/.env.production"),
    ("kms.key-shared-across-envs", "env/.env.staging"),
    ("backup.unencrypted", "scripts/backup.sh"),
    ("pg.sslmode-weak", "callvault.toml"),
    ("endpoint.plaintext-debug", "docker-compose.yml"),
    ("log.sensitive-fields", "logging.yaml"),
}


def test_every_planted_flag_is_found_and_nothing_else(planted) -> None:
    report = lint_path(planted.root)
    assert {(f.check, f.file) for f in report.findings} == EXPECTED
    assert {check for check, _ in EXPECTED} == set(check_ids())  # one of each rule
    assert report.environment == "prod"  # inferred from callvault.toml / .env.production


def test_planted_findings_point_at_the_right_lines(planted) -> None:
    lines: dict[tuple[str, str], set[int | None]] = {}
    for f in lint_path(planted.root).findings:
        lines.setdefault((f.check, f.file), set()).add(f.line)
    assert lines[("tls.legacy-protocol", "nginx/nginx.conf")] == {20}
    assert lines[("pg.sslmode-weak", "callvault.toml")] == {7}
    assert lines[("endpoint.plaintext-debug", "docker-compose.yml")] == {10}
    assert lines[("cert.dev-ca-in-prod", "tls/server.pem")] == {1, 14}  # leaf and local CA
    assert lines[("log.sensitive-fields", "logging.yaml")] == {13}
    assert lines[("kms.key-shared-across-envs", "env/.env.staging")] == {5}


def test_secret_findings_name_each_secret_by_fingerprint_only(planted) -> None:
    report = lint_path(planted.root)
    secret_lines = {f.line for f in report.findings if f.check == "secret.hardcoded"}
    assert secret_lines == {3, 4, 5}  # access key id, secret access key, root key
    text = json.dumps(report.as_json()) + json.dumps(to_sarif(report))
    for value in planted.secrets:
        assert value not in text
        assert value[:12] not in text and value[-12:] not in text
    assert "fingerprint sha256:" in text


def test_clean_deployment_has_no_findings(clean: Path) -> None:
    report = lint_path(clean)
    assert report.findings == ()
    assert report.environment == "prod"
    assert report.files_scanned == len([p for p in clean.rglob("*") if p.is_file()])


def test_clean_deployment_turns_red_when_a_flag_is_added(clean: Path) -> None:
    """The clean tree is clean because of its contents, not because it is not read."""
    nginx = clean / "nginx" / "nginx.conf"
    nginx.write_text(nginx.read_text().replace("TLSv1.2 TLSv1.3;", "TLSv1 TLSv1.2 TLSv1.3;"))
    assert {(f.check, f.file) for f in lint_path(clean).findings} == {
        ("tls.legacy-protocol", "nginx/nginx.conf")
    }


def test_report_shape(planted) -> None:
    document = lint_path(planted.root).as_json()
    assert document["format"] == FORMAT == "callvault.lint/v1"
    assert document["path"] == str(planted.root.resolve())
    assert document["linted_at"].endswith("Z")
    assert [c["id"] for c in document["checks"]] == list(check_ids())
    for check in document["checks"]:
        assert set(check) == {"id", "severity", "title", "rationale", "fix"}
        assert all(check.values())
    for finding in document["findings"]:
        assert set(finding) == {"check", "severity", "file", "line", "message", "fix"}
        assert not Path(finding["file"]).is_absolute()
    json.dumps(document)  # serialisable as is
