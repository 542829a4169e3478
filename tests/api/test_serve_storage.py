"""``callvault serve`` wired by configuration: the embedded default created on first run,
PostgreSQL records through ``[storage] records_url`` (refused when weak or unmigrated, then
migrated by ``callvault db migrate`` as the owner), and sealed objects in an S3 bucket on
Ceph's radosgw; each in a real subprocess over TLS."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from callvault.storage.records import create_records_engine

CALLER = "+15550001111"


def _url(url: Any) -> str:
    return str(url.render_as_string(hide_password=False))


def _admin_token(run_cli: Callable[..., Any], home: Path, **env: str) -> str:
    minted = run_cli(home, "token", "--role", "platform-admin", **env)
    assert minted.returncode == 0, minted.stderr
    return str(minted.stdout.strip())


def test_first_run_creates_the_embedded_home_and_serves(
    tmp_path: Path, cli_serve: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    home = tmp_path / "fresh"
    server = cli_serve(home)
    banner = "".join(server.banner)
    assert f"created callvault home {home} (environment dev)" in banner
    assert f"records in SQLite {home / 'records.db'}" in banner
    assert f"objects in local {home / 'objects'}" in banner
    assert stat.S_IMODE((home / "root.key").stat().st_mode) == 0o600
    with server.client(_admin_token(run_cli, home)) as client:
        assert client.post("/v1/tenants", json={"id": "acme"}).status_code == 201
        assert [t["id"] for t in client.get("/v1/tenants").json()["tenants"]] == ["acme"]


def test_serve_keeps_records_in_postgres_when_configured(
    tmp_path: Path,
    cli_serve: Callable[..., Any],
    run_cli: Callable[..., Any],
    pg_database: Callable[..., Any],
) -> None:
    db = pg_database()
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    assert run_cli(home, "tenants", "create", "acme").returncode == 0
    env = {"CALLVAULT_STORAGE__RECORDS_URL": _url(db.app_url)}
    server = cli_serve(home, **env)
    banner = "".join(server.banner)
    assert f"as {db.app_url.username}" in banner and f"/{db.name}" in banner
    assert db.app_url.password not in banner
    token = run_cli(home, "token", "--role", "service", "--tenant", "acme", **env).stdout.strip()
    transcript = {"call_id": "c-1", "caller": CALLER, "text": "my member id is M-123"}
    with server.client(token) as client:
        created = client.post("/v1/tenants/acme/transcripts", json=transcript)
        assert created.status_code == 201, created.text
        found = client.get("/v1/tenants/acme/transcripts", params={"caller": CALLER})
        assert [t["id"] for t in found.json()["transcripts"]] == [created.json()["id"]]
    assert not (home / "records.db").exists()
    owner = create_records_engine(db.owner_url)
    try:
        with owner.begin() as connection:
            connection.execute(text("SELECT set_config('callvault.tenant', 'acme', true)"))
            rows = connection.execute(text("SELECT sealed FROM transcripts")).all()
    finally:
        owner.dispose()
    assert len(rows) == 1
    assert CALLER.encode() not in rows[0].sealed and b"M-123" not in rows[0].sealed


def test_unmigrated_postgres_is_refused_until_the_owner_migrates(
    tmp_path: Path,
    cli_serve: Callable[..., Any],
    run_cli: Callable[..., Any],
    pg_database: Callable[..., Any],
) -> None:
    db = pg_database(migrate=False)
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    app = {"CALLVAULT_STORAGE__RECORDS_URL": _url(db.app_url)}
    refused = run_cli(home, "serve", "--port", "0", **app)
    assert refused.returncode == 1
    assert "callvault db migrate" in refused.stderr and refused.stderr.count("\n") == 1
    assert run_cli(home, "db", "status", **app).returncode == 1
    owner = {"CALLVAULT_DB_OWNER_URL": _url(db.owner_url)}
    migrated = run_cli(home, "db", "migrate", "--grant-to", db.app_url.username, **owner)
    assert migrated.returncode == 0, migrated.stderr
    status = run_cli(home, "db", "status", "--json", **app)
    assert status.returncode == 0 and '"current": true' in status.stdout
    cli_serve(home, **app)  # now it starts


def test_weak_database_tls_is_refused_before_serving(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    weak = "postgresql+psycopg://app@db.internal/callvault?sslmode=require&sslrootcert=/ca.pem"
    refused = run_cli(home, "serve", "--port", "0", CALLVAULT_STORAGE__RECORDS_URL=weak)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "sslmode" in refused.stderr and "verify-full" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_embedded_sqlite_db_commands(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    before = run_cli(home, "db", "status")
    assert before.returncode == 1 and "revision none" in before.stdout
    assert run_cli(home, "db", "migrate").returncode == 0
    after = run_cli(home, "db", "status")
    assert after.returncode == 0 and "sqlite: revision" in after.stdout


def _s3_env(server: Any, bucket: str) -> dict[str, str]:
    """What points ``serve`` at the bucket: settings through CALLVAULT_*, and the S3
    credentials through boto3's own variables (never in settings)."""
    return {
        "CALLVAULT_STORAGE__OBJECTS": "s3",
        "CALLVAULT_STORAGE__S3__BUCKET": bucket,
        "CALLVAULT_STORAGE__S3__PREFIX": "calls/",
        "CALLVAULT_STORAGE__S3__ENDPOINT_URL": server.endpoint,
        "CALLVAULT_STORAGE__S3__CA_BUNDLE": server.ca,
        "CALLVAULT_STORAGE__S3__REGION": "us-east-1",
        "CALLVAULT_STORAGE__S3__ADDRESSING_STYLE": "path",
        # radosgw accepts SSE-S3 and silently stores clear bytes; the store refuses that.
        "CALLVAULT_STORAGE__S3__SERVER_SIDE_ENCRYPTION": "false",
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }


def test_serve_keeps_objects_in_s3_when_configured(
    tmp_path: Path,
    cli_serve: Callable[..., Any],
    run_cli: Callable[..., Any],
    radosgw_bucket: tuple[Any, Any, str],
) -> None:
    server, client, bucket = radosgw_bucket
    env = _s3_env(server, bucket)
    home = tmp_path / "home"
    assert run_cli(home, "init").returncode == 0
    assert run_cli(home, "tenants", "create", "acme").returncode == 0
    server = cli_serve(home, **env)
    assert f"objects in S3 bucket {bucket}/calls/" in "".join(server.banner)
    audio = b"PLAINTEXT-AUDIO-MARKER " * 40_000  # ~920 KB: several chunks
    token = run_cli(home, "token", "--role", "service", "--tenant", "acme", **env).stdout.strip()
    path = f"/v1/tenants/acme/recordings/s3-call?subject={CALLER.replace('+', '%2B')}"
    with server.client(token) as http:
        assert http.put(path, content=audio).status_code == 201
        ranged = http.get(path, headers={"range": "bytes=100000-100099"})
        assert ranged.status_code == 206 and ranged.content == audio[100000:100100]
        assert http.get(path).content == audio
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["calls/acme/recording/s3-call", "calls/acme/recording/s3-call:meta"]
    for key in keys:
        stored = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert b"PLAINTEXT-AUDIO-MARKER" not in stored and CALLER.encode() not in stored
    assert not (home / "objects").exists() or not any((home / "objects").rglob("*"))
