"""``check_database_url``: the one gate between a configured URL and a database connection.

Pure tests (no server): every weaker TLS setting is refused by name, before any I/O."""

from __future__ import annotations

import pytest

from callvault.errors import ConfigError
from callvault.storage.records import (
    InsecureDatabaseUrl,
    check_database_url,
    check_tls_session,
    create_records_engine,
)

BASE = "postgresql+psycopg://app:s3cr3t-pw@db.example:5432/callvault"
GOOD = f"{BASE}?sslmode=verify-full&sslrootcert=/etc/ca.pem"


def refused(url: str) -> InsecureDatabaseUrl:
    with pytest.raises(InsecureDatabaseUrl) as info:
        check_database_url(url)
    assert "s3cr3t-pw" not in str(info.value)  # never echo the password
    return info.value


def test_verify_full_is_accepted_and_pinned_to_tls13() -> None:
    url = check_database_url(GOOD)
    assert url.drivername == "postgresql+psycopg"
    assert url.query["sslmode"] == "verify-full"
    assert url.query["sslrootcert"] == "/etc/ca.pem"
    assert url.query["ssl_min_protocol_version"] == "TLSv1.3"
    assert url.query["gssencmode"] == "disable"


def test_plain_postgresql_scheme_means_psycopg3() -> None:
    url = check_database_url(GOOD.replace("postgresql+psycopg://", "postgresql://"))
    assert url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    "mode", ["disable", "allow", "prefer", "require", "verify-ca", "VERIFY-FULL", "verify_full", ""]
)
def test_every_weaker_sslmode_is_refused_by_name(mode: str) -> None:
    error = refused(f"{BASE}?sslmode={mode}&sslrootcert=/etc/ca.pem")
    assert error.setting == "sslmode"
    assert "sslmode" in str(error)
    assert "verify-full" in str(error)


def test_missing_sslmode_is_refused() -> None:
    error = refused(f"{BASE}?sslrootcert=/etc/ca.pem")
    assert error.setting == "sslmode"
    assert "missing" in str(error)


def test_sslmode_given_twice_is_refused() -> None:
    # libpq would take the last one; a reviewer would read the first.
    error = refused(f"{GOOD}&sslmode=disable")
    assert error.setting == "sslmode"


def test_missing_sslrootcert_is_refused() -> None:
    assert refused(f"{BASE}?sslmode=verify-full").setting == "sslrootcert"
    assert refused(f"{BASE}?sslmode=verify-full&sslrootcert=").setting == "sslrootcert"


@pytest.mark.parametrize(
    ("extra", "setting"),
    [
        ("ssl_min_protocol_version=TLSv1.2", "ssl_min_protocol_version"),
        ("ssl_max_protocol_version=TLSv1.2", "ssl_max_protocol_version"),
        ("gssencmode=prefer", "gssencmode"),
        ("service=prod", "service"),
        ("sslkeylogfile=/tmp/keys", "sslkeylogfile"),
        ("host=/var/run/postgresql", "host"),
    ],
)
def test_settings_that_would_weaken_tls_are_refused(extra: str, setting: str) -> None:
    assert refused(f"{GOOD}&{extra}").setting == setting


def test_explicit_tls13_settings_are_accepted() -> None:
    url = check_database_url(
        f"{GOOD}&ssl_min_protocol_version=TLSv1.3&ssl_max_protocol_version=TLSv1.3"
    )
    assert url.query["ssl_min_protocol_version"] == "TLSv1.3"


def test_unix_sockets_and_missing_hosts_are_refused() -> None:
    # libpq never uses TLS on a Unix socket: sslmode would silently mean nothing.
    assert refused(
        "postgresql+psycopg:///callvault?sslmode=verify-full&sslrootcert=/c"
    ).setting == ("host")
    socket = "postgresql+psycopg://app@/callvault?host=@abstract&sslmode=verify-full&sslrootcert=/c"
    assert refused(socket).setting == "host"


@pytest.mark.parametrize(
    ("url", "setting"),
    [
        (GOOD.replace("+psycopg", "+psycopg2"), "driver"),
        (GOOD.replace("+psycopg", "+asyncpg"), "driver"),
        (GOOD.replace("postgresql+psycopg", "mysql+pymysql"), "backend"),
        ("not a url", "url"),
    ],
)
def test_other_drivers_and_backends_are_refused(url: str, setting: str) -> None:
    assert refused(url).setting == setting


def test_sqlite_passes_unchanged() -> None:
    assert str(check_database_url("sqlite:////tmp/x.db")) == "sqlite:////tmp/x.db"


def test_it_is_a_config_error() -> None:
    assert issubclass(InsecureDatabaseUrl, ConfigError)


@pytest.mark.parametrize("query", ["sslmode=require", "sslmode=disable", ""])
def test_engine_construction_refuses_weak_urls(query: str) -> None:
    # Refused while building the engine: no engine exists, so no connection can be attempted.
    with pytest.raises(InsecureDatabaseUrl):
        create_records_engine(f"{BASE}?{query}&sslrootcert=/etc/ca.pem")


def test_tls_session_check() -> None:
    check_tls_session(True, "TLSv1.3")
    with pytest.raises(ConfigError, match="TLS is not in use"):
        check_tls_session(False, None)
    with pytest.raises(ConfigError, match=r"TLSv1\.2"):
        check_tls_session(True, "TLSv1.2")
