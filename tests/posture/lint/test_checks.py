# ruff: noqa: E501 - a table of cases reads best one case per line
"""Each rule on its own: a minimal positive case (found) and a negative one (not found)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callvault.posture.lint import CHECKS, Finding, Severity, lint_path

from .conftest import issue_chain, self_signed_leaf

_BY_ID = {check.info.id: check for check in CHECKS}


def run(root: Path, files: dict[str, str], check_id: str, env: str | None = None) -> list[Finding]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(lint_path(root, environment=env, checks=[_BY_ID[check_id]]).findings)


# fmt: off
CASES = [
    # (check, files, environment, found)
    ("tls.legacy-protocol", {"n.conf": "ssl_protocols TLSv1 TLSv1.2;\n"}, None, True),
    ("tls.legacy-protocol", {"n.conf": "ssl_protocols TLSv1.2 TLSv1.3;\n"}, None, False),
    ("tls.legacy-protocol", {"n.conf": "# ssl_protocols TLSv1 TLSv1.2;\n"}, None, False),
    ("tls.legacy-protocol", {"h.cfg": "  bind :443 ssl crt a.pem ssl-min-ver TLSv1.0\n"}, None, True),
    ("tls.legacy-protocol", {"h.cfg": "  bind :443 ssl crt a.pem ssl-min-ver TLSv1.2\n"}, None, False),
    ("tls.legacy-protocol", {"a.conf": "SSLProtocol all -SSLv3\n"}, None, True),
    ("tls.legacy-protocol", {"a.conf": "SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1\n"}, None, False),
    ("tls.legacy-protocol", {"t.py": "ctx.minimum_version = ssl.TLSVersion.TLSv1_1\n"}, None, True),
    ("tls.legacy-protocol", {"t.py": "ctx.minimum_version = ssl.TLSVersion.TLSv1_3\n"}, None, False),
    ("tls.legacy-protocol", {"pg.conf": "ssl_min_protocol_version = 'TLSv1'\n"}, None, True),
    ("tls.legacy-protocol", {"pg.conf": "ssl_min_protocol_version = 'TLSv1.3'\n"}, None, False),
    ("tls.legacy-protocol", {"README.md": "never write ssl_protocols TLSv1;\n"}, None, False),
    ("tls.weak-suite", {"n.conf": "ssl_ciphers HIGH:!aNULL:!MD5;\n"}, None, True),
    ("tls.weak-suite", {"n.conf": "ssl_ciphers 'RC4-SHA:ECDHE-RSA-AES256-GCM-SHA384';\n"}, None, True),
    ("tls.weak-suite", {"n.conf": "ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384;\n"}, None, False),
    ("tls.weak-suite", {"n.conf": "listen 443 ssl;\nssl_protocols TLSv1.2 TLSv1.3;\n"}, None, True),
    ("tls.weak-suite", {"n.conf": "listen 443 ssl;\nssl_protocols TLSv1.3;\n"}, None, False),
    ("tls.weak-suite", {"a.conf": "SSLCipherSuite DES-CBC3-SHA\n"}, None, True),
    ("tls.weak-suite", {"h.cfg": "ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384\n"}, None, False),
    ("tls.no-pfs", {"h.cfg": "ssl-default-bind-ciphers AES128-GCM-SHA256\n"}, None, True),
    ("tls.no-pfs", {"h.cfg": "ssl-default-bind-ciphers kRSA:ECDHE-RSA-AES256-GCM-SHA384\n"}, None, True),
    ("tls.no-pfs", {"h.cfg": "ssl-default-bind-ciphers ECDHE-RSA-AES256-GCM-SHA384\n"}, None, False),
    ("tls.no-pfs", {"t.py": 'ctx.set_ciphers("ECDHE+AESGCM:!aNULL")\n'}, None, False),
    ("tls.no-pfs", {"t.py": 'ctx.set_ciphers("AES256-SHA")\n'}, None, True),
    ("secret.hardcoded", {"a.py": 'API = "cvk_' + "a" * 16 + "_" + "b2" * 26 + '"\n'}, None, True),
    ("secret.hardcoded", {".env": "CALLVAULT_ROOT_PASSPHRASE=correct horse battery\n"}, None, True),
    ("secret.hardcoded", {".env": "CALLVAULT_ROOT_PASSPHRASE=${ROOT_PASSPHRASE}\n"}, None, False),
    ("secret.hardcoded", {"root.key": "ab" * 32 + "\n"}, None, True),
    ("secret.hardcoded", {"k.pem": "-----BEGIN EC PRIVATE KEY-----\nMHc=\n"}, None, True),
    ("secret.hardcoded", {"db.py": 'password = "hunter2-but-longer"\n'}, None, True),
    ("secret.hardcoded", {"db.py": 'password = os.environ["DB_PASSWORD"]\n'}, None, False),
    ("secret.hardcoded", {"u.env": "DATABASE_URL=postgresql://u:s3cretpw@db/x\n"}, None, True),
    ("kms.key-shared-across-envs",
     {"prod.env": "KMS=alias/calls\n", "staging.env": "KMS=alias/calls\n"}, None, True),
    ("kms.key-shared-across-envs",
     {"prod.env": "KMS=alias/calls-prod\n", "staging.env": "KMS=alias/calls-stg\n"}, None, False),
    ("kms.key-shared-across-envs",
     {"prod/a.toml": 'kms = "pkcs11:///lib/softhsm.so?token=cv"\n',
      "dev/a.toml": 'kms = "pkcs11:///lib/softhsm.so?token=cv"\n'}, None, True),
    ("kms.key-shared-across-envs",
     {"prod/v.hcl": 'path "transit/encrypt/calls" {}\n',
      "staging/v.hcl": 'path "transit/encrypt/calls" {}\n'}, None, True),
    ("kms.key-shared-across-envs",  # one environment referencing its key twice
     {"prod/a.env": "KMS=alias/calls\n", "prod/b.env": "KMS=alias/calls\n"}, None, False),
    ("kms.key-shared-across-envs",  # local:// is per home, never shared
     {"prod/c.toml": 'kms = "local://"\n', "dev/c.toml": 'kms = "local://"\n'}, None, False),
    ("backup.unencrypted", {".env": "BACKUP_ENCRYPTION=false\n"}, None, True),
    ("backup.unencrypted", {".env": "BACKUP_ENCRYPTION=true\n"}, None, False),
    ("backup.unencrypted", {"pgbackrest.conf": "[global]\nrepo1-path=/r\n"}, None, True),
    ("backup.unencrypted", {"pgbackrest.conf": "[g]\nrepo1-path=/r\nrepo1-cipher-type=aes-256-cbc\n"},
     None, False),
    ("backup.unencrypted", {"b.sh": "mysqldump calls > /b/calls.sql\n"}, None, True),
    ("backup.unencrypted", {"b.sh": "mysqldump calls | gpg -e -r ops > /b/calls.gpg\n"}, None, False),
    ("backup.unencrypted", {"b.sh": "aws s3 sync /backups s3://b/\n"}, None, True),
    ("backup.unencrypted", {".env": "BACKUP_URL=http://backup.internal/upload\n"}, None, True),
    ("pg.sslmode-weak", {"a.env": "DATABASE_URL=postgresql://app@db/calls\n"}, None, True),
    ("pg.sslmode-weak", {"a.env": "DATABASE_URL=postgresql://app@db/calls?sslmode=verify-full\n"},
     None, True),  # no sslrootcert
    ("pg.sslmode-weak",
     {"a.env": "DATABASE_URL=postgresql://app@db/c?sslmode=verify-full&sslrootcert=/ca.pem\n"},
     None, False),
    ("pg.sslmode-weak", {"a.py": 'psycopg.connect("host=db dbname=calls sslmode=verify-ca")\n'},
     None, True),
    ("pg.sslmode-weak", {"a.env": "PGSSLMODE=require\n"}, None, True),
    ("pg.sslmode-weak",
     {"a.env": "PGSSLMODE=verify-full\nPGSSLROOTCERT=/ca.pem\nDATABASE_URL=postgresql://app@db/c\n"},
     None, False),
    ("pg.sslmode-weak", {"a.py": 'if url.startswith("postgresql://"):\n'}, None, False),
    ("endpoint.plaintext-debug", {"Procfile": "web: gunicorn app:app --bind 0.0.0.0:80\n"}, None, True),
    ("endpoint.plaintext-debug",
     {"Procfile": "web: gunicorn app:app --bind 0.0.0.0:443 --certfile c --keyfile k\n"}, None, False),
    ("endpoint.plaintext-debug", {"r.py": 'uvicorn.run("a:app", reload=True)\n'}, None, True),
    ("endpoint.plaintext-debug", {"r.py": 'uvicorn.run("a:app", host="127.0.0.1")\n'}, None, False),
    ("endpoint.plaintext-debug", {"r.py": "client = Redis(host=h, ssl=False)\n"}, None, True),
    ("endpoint.plaintext-debug", {".env": "DEBUG=true\n"}, None, True),
    ("endpoint.plaintext-debug", {".env": "DEBUG=false\n"}, None, False),
    ("endpoint.plaintext-debug", {"c.toml": 'kms = "vault+http://vault.internal:8200/"\n'}, None, True),
    ("endpoint.plaintext-debug", {".env": "CALLVAULT_URL=https://callvault.internal\n"}, None, False),
    ("endpoint.plaintext-debug", {"run.sh": "uvicorn a:app \\\n  --reload\n"}, None, True),
    ("log.sensitive-fields", {"l.ini": "[loggers]\nkeys=root\n[logger_root]\nlevel=DEBUG\n"},
     None, True),
    ("log.sensitive-fields", {"l.ini": "[loggers]\nkeys=root\n[logger_root]\nlevel=INFO\n"},
     None, False),
    ("log.sensitive-fields", {"l.py": 'logging.getLogger("botocore").setLevel(logging.DEBUG)\n'},
     None, True),
    ("log.sensitive-fields", {"l.py": 'logging.getLogger("voice").setLevel(logging.DEBUG)\n'},
     None, False),
    ("log.sensitive-fields", {"l.py": 'logger.info("got %s", transcript)\n'}, None, True),
    ("log.sensitive-fields", {"l.py": 'logger.info(f"caller {call.caller} joined")\n'}, None, True),
    ("log.sensitive-fields", {"l.py": 'logger.info("token refreshed for %s", tenant)\n'}, None, False),
    ("log.sensitive-fields", {"n.conf": "log_format x '$remote_addr $http_authorization';\n"},
     None, True),
    ("log.sensitive-fields", {"e.py": "engine = create_engine(url, echo=True)\n"}, None, True),
    ("log.sensitive-fields", {"l.json": '{"version": 1, "loggers": {"httpx": {"level": "DEBUG"}}}'},
     None, True),
]
# fmt: on


@pytest.mark.parametrize(("check", "files", "env", "found"), CASES)
def test_check_case(
    tmp_path: Path, check: str, files: dict[str, str], env: str | None, found: bool
) -> None:
    findings = run(tmp_path, files, check, env)
    assert bool(findings) is found, findings
    assert all(f.check == check for f in findings)


def test_every_check_has_a_positive_and_a_negative_case() -> None:
    positive = {c for c, _, _, found in CASES if found}
    negative = {c for c, _, _, found in CASES if not found}
    assert positive == negative == set(_BY_ID) - {"cert.dev-ca-in-prod"}  # below, with PEMs


@pytest.mark.parametrize(
    ("pem", "env", "found"),
    [
        (lambda: self_signed_leaf("api.acme-voice.example"), "prod", True),
        (lambda: self_signed_leaf("api.acme-voice.example"), "staging", False),
        (lambda: issue_chain("Acme Dev CA", "api.acme-voice.example"), "prod", True),
        (lambda: issue_chain("Acme Voice Issuing CA", "api.acme-voice.example"), "prod", False),
    ],
)
def test_cert_dev_ca_in_prod(tmp_path: Path, pem, env: str, found: bool) -> None:
    findings = run(tmp_path, {"tls/server.pem": pem().decode()}, "cert.dev-ca-in-prod", env)
    assert bool(findings) is found, findings


def test_cert_environment_inferred_from_config(tmp_path: Path) -> None:
    files = {"tls/server.pem": self_signed_leaf("x.example").decode()}
    assert run(tmp_path, files, "cert.dev-ca-in-prod") == []  # nothing says prod
    files = {"callvault.toml": 'environment = "prod"\n'}
    assert len(run(tmp_path, files, "cert.dev-ca-in-prod")) == 1


def test_legacy_ssl_is_critical(tmp_path: Path) -> None:
    [finding] = run(tmp_path, {"n.conf": "ssl_protocols SSLv3 TLSv1.2;\n"}, "tls.legacy-protocol")
    assert finding.severity is Severity.CRITICAL
    [finding] = run(tmp_path, {"n.conf": "ssl_protocols TLSv1.1 TLSv1.2;\n"}, "tls.legacy-protocol")
    assert finding.severity is Severity.HIGH


def test_private_keys_get_distinct_fingerprints(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    for name in ("a.key", "b.key"):
        key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (tmp_path / name).write_bytes(key)
    findings = run(tmp_path, {}, "secret.hardcoded")
    assert {f.file for f in findings} == {"a.key", "b.key"}
    assert len({f.message for f in findings}) == 2


def test_keyword_arguments_are_not_a_dsn(tmp_path: Path) -> None:
    assert run(tmp_path, {"s.py": "serve(app, host=host, port=port)\n"}, "pg.sslmode-weak") == []
    code = {"s.py": "psycopg.connect(host=h, dbname=d)\n"}
    assert len(run(tmp_path, code, "pg.sslmode-weak")) == 1
