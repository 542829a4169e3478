"""``[egress]`` settings refuse what would weaken a provider's policy, at load time."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from callvault.config import load_settings
from callvault.errors import ConfigError
from callvault.transport.egress import EgressProviderSettings, EgressSettings, parse_pin

GOOD_PIN = "sha256/" + base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "fields",
    [
        {"base_url": "http://stt.example"},  # plaintext
        {"base_url": "stt.example"},  # no scheme
        {"base_url": "https://user:pw@stt.example"},  # credentials in the URL
        {"base_url": "https://stt.example", "verify": False},  # no such switch
        {"base_url": "https://stt.example", "check_hostname": False},
        {"base_url": "https://stt.example", "pins": ["sha1/" + GOOD_PIN[7:]]},
        {"base_url": "https://stt.example", "pins": ["sha256/not-base64!"]},
        {"base_url": "https://stt.example", "pins": ["sha256/" + "A" * 20]},  # short
    ],
)
def test_weakening_settings_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EgressProviderSettings.model_validate(fields)


def test_pin_round_trip_and_provider_names() -> None:
    assert parse_pin(GOOD_PIN) == bytes(32)
    ok = EgressProviderSettings.model_validate(
        {"base_url": "https://stt.example", "pins": [GOOD_PIN]}
    )
    assert ok.allow_tls12 is False and ok.pins == (GOOD_PIN,)
    with pytest.raises(ValidationError, match="provider name"):
        EgressSettings.model_validate({"providers": {"Bad Name": ok.model_dump()}})


def test_config_file_typo_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "callvault.toml").write_text(
        '[egress.providers.stt]\nbase_url = "https://stt.example"\nallow_tls_12 = true\n'
    )
    with pytest.raises(ConfigError, match="allow_tls_12"):
        load_settings(tmp_path)
