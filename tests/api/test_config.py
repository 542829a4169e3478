"""The settings ``callvault serve`` reads: TLS profile switch and upload limit."""

from __future__ import annotations

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
