"""The settings ``callvault serve`` reads: TLS profile switch, limits and storage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callvault.config import load_settings
from callvault.errors import ConfigError


def test_defaults_are_modern(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLVAULT_TLS_PROFILE", raising=False)
    settings = load_settings(tmp_path)
    assert settings.tls_profile == "modern"
    assert settings.api.max_recording_bytes == 4 * 1024**3


def test_legacy_switch_and_limits(tmp_path: Path) -> None:
    (tmp_path / "callvault.toml").write_text(
        'tls_profile = "legacy-interop"\n[api]\nmax_recording_bytes = 1024\n'
    )
    settings = load_settings(tmp_path)
    assert settings.tls_profile == "legacy-interop" and settings.api.max_recording_bytes == 1024


@pytest.mark.parametrize(
    "text",
    ['tls_profile = "tls1.0"\n', 'tls_profile = "MODERN "\n', "[api]\nmax_recording_bytes = 0\n",
     "[api]\nmax_body = 5\n"],
)
def test_bad_values_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "callvault.toml").write_text(text)
    with pytest.raises(ConfigError):
        load_settings(tmp_path)


_PG = "postgresql+psycopg://app@db.internal/cv?sslmode=verify-full&sslrootcert=/etc/ca.pem"


def test_storage_defaults_to_the_embedded_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLVAULT_STORAGE__RECORDS_URL", raising=False)
    storage = load_settings(tmp_path).storage
    assert storage.records_url is None and storage.objects == "local" and storage.s3 is None


def test_storage_section_names_postgres_and_s3(tmp_path: Path) -> None:
    (tmp_path / "callvault.toml").write_text(
        f'[storage]\nrecords_url = "{_PG}"\nobjects = "s3"\n'
        '[storage.s3]\nbucket = "calls-prod"\nendpoint_url = "https://s3.internal"\n'
    )
    storage = load_settings(tmp_path).storage
    assert storage.records_url == _PG and storage.s3 is not None
    assert storage.s3.bucket == "calls-prod"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (f'[storage]\nrecords_url = "{_PG.replace("verify-full", "require")}"\n', "verify-full"),
        (f'[storage]\nrecords_url = "{_PG.replace("app@", "app:hunter2@")}"\n', "PGPASSWORD"),
        (f'[storage]\nrecords_url = "{_PG}&password=hunter2"\n', "PGPASSWORD"),
        ('[storage]\nobjects = "s3"\n', "[storage.s3]"),
        ('[storage]\nobjects = "ftp"\n', "storage.objects"),
        ('[storage.s3]\nbucket = "b1b"\nendpoint_url = "http://s3.internal"\n', "https"),
        ("[storage]\nrecords = 1\n", "storage.records"),
    ],
)
def test_bad_storage_settings_refused_with_the_reason(
    tmp_path: Path, text: str, needle: str
) -> None:
    (tmp_path / "callvault.toml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(needle)) as raised:
        load_settings(tmp_path)
    assert str(tmp_path / "callvault.toml") in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_database_password_may_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_password = _PG.replace("app@", "app:s3cret@")
    monkeypatch.setenv("CALLVAULT_STORAGE__RECORDS_URL", with_password)
    assert load_settings(tmp_path).storage.records_url == with_password
