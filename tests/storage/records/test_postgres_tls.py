"""PostgreSQL transport: verify-full over TLS 1.3 is accepted, everything weaker is refused —
by our URL check, by the server (pg_hba hostssl only, TLS 1.3 floor) and by the client's
certificate check (wrong CA, wrong name)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from callvault.errors import ConfigError
from callvault.storage.records import (
    InsecureDatabaseUrl,
    NewTranscript,
    RecordStore,
    create_records_engine,
)

SSL_QUERY = "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def libpq_args(url: URL, **overrides: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
        "sslrootcert": url.query["sslrootcert"],
        "connect_timeout": 10,
    }
    args.update(overrides)
    return args


def other_ca(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "someone else's CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_verify_full_connects_with_tls13(pg_db: Any) -> None:
    engine = create_records_engine(pg_db.app_url)
    try:
        with engine.connect() as connection:
            ssl, version, cipher = connection.execute(text(SSL_QUERY)).one()
    finally:
        engine.dispose()
    assert ssl is True
    assert version == "TLSv1.3"
    assert cipher in {
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    }


def test_sealed_bytes_round_trip_over_tls(pg_store: RecordStore) -> None:
    sealed = bytes(range(256)) * 64 + b"\x00"
    rid = pg_store.add_transcript(
        "acme", NewTranscript(call_id="c", caller_index=b"\x00" * 32, sealed=sealed)
    )
    got = pg_store.get_transcript("acme", rid)
    assert got.sealed == sealed and got.caller_index == b"\x00" * 32
    assert got.created_at.tzinfo is datetime.UTC


@pytest.mark.parametrize("mode", ["require", "disable", "verify-ca", None])
def test_weaker_sslmode_is_refused_at_engine_construction(pg_db: Any, mode: str | None) -> None:
    query = dict(pg_db.app_url.query)
    query.pop("sslmode")
    if mode is not None:
        query["sslmode"] = mode
    with pytest.raises(InsecureDatabaseUrl, match="sslmode"):
        create_records_engine(pg_db.app_url.set(query=query))


def test_server_refuses_plaintext(pg_db: Any) -> None:
    # Straight through psycopg, bypassing our check: pg_hba has no `host` line.
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(**libpq_args(pg_db.app_url, sslmode="disable"))


def test_server_refuses_tls12(pg_db: Any) -> None:
    args = libpq_args(pg_db.app_url, sslmode="verify-full", ssl_max_protocol_version="TLSv1.2")
    with pytest.raises(psycopg.OperationalError, match="protocol version"):
        psycopg.connect(**args)


def test_wrong_ca_is_refused(pg_db: Any, tmp_path: Path) -> None:
    ca = other_ca(tmp_path / "other-ca.pem")
    engine = create_records_engine(pg_db.app_url.update_query_dict({"sslrootcert": str(ca)}))
    try:
        with pytest.raises(OperationalError, match="certificate verify failed"):
            engine.connect()
    finally:
        engine.dispose()


def test_wrong_host_name_is_refused(pg_db: Any) -> None:
    # Same server, same CA, but the certificate does not name the host we asked for: exactly
    # what verify-full catches and verify-ca would let through.
    url = pg_db.app_url.set(host="db.callvault.invalid").update_query_dict(
        {"hostaddr": "127.0.0.1"}
    )
    engine = create_records_engine(url)
    try:
        with pytest.raises(OperationalError, match="does not match host name"):
            engine.connect()
    finally:
        engine.dispose()
    lax = libpq_args(url, sslmode="verify-ca", hostaddr="127.0.0.1")
    with psycopg.connect(**lax) as connection:  # why verify-ca is refused by our check
        assert connection.pgconn.ssl_in_use


def test_store_refuses_the_owner_role(pg_db: Any) -> None:
    engine = create_records_engine(pg_db.owner_url)
    try:
        with pytest.raises(ConfigError, match="owner"):
            RecordStore(engine)
    finally:
        engine.dispose()
