"""``[egress]`` settings: which outbound providers exist and what each one is allowed.

A provider is named once, in configuration, with its ``https://`` base URL; code asks for
a client by that name and never passes TLS options. The only switches are the loud ones:
``allow_tls12`` (the LEGACY_INTEROP profile for a provider that cannot do TLS 1.3) and
``pins`` (SPKI hashes that narrow, never widen, who is trusted). There is no switch that
turns certificate or hostname verification off, so no configuration can.

This module imports only pydantic, so ``callvault.config`` can embed it cheaply.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "PROVIDER_NAME",
    "EgressProviderSettings",
    "EgressSettings",
    "parse_pin",
]

PROVIDER_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_PIN_PREFIX = "sha256/"


def parse_pin(pin: str) -> bytes:
    """The 32-byte digest of a ``sha256/<base64>`` pin (the HPKP / ``curl --pinnedpubkey``
    spelling); anything else is a ``ValueError``, so a typo cannot become "no pin"."""
    if not pin.startswith(_PIN_PREFIX):
        raise ValueError(f"pin {pin!r} must look like 'sha256/<base64 of 32 bytes>'")
    try:
        digest = base64.b64decode(pin[len(_PIN_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"pin {pin!r} is not valid base64") from None
    if len(digest) != 32:
        raise ValueError(f"pin {pin!r} is not a SHA-256 digest (32 bytes)")
    return digest


class EgressProviderSettings(BaseModel):
    """``[egress.providers.<name>]``: one STT/LLM/TTS endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    base_url: str = Field(description="https:// URL of the provider's API; http:// is refused")
    allow_tls12: bool = Field(
        False,
        description="accept TLS 1.2 (LEGACY_INTEROP: ECDHE + AEAD suites only) for a "
        "provider that cannot do TLS 1.3; off by default",
    )
    pins: tuple[str, ...] = Field(
        (),
        description="optional SPKI pins of the provider's leaf certificate, "
        "'sha256/<base64>'; when given, every new connection must match one",
    )
    ca_bundle: str | None = Field(
        None,
        description="PEM trust anchors replacing the system store (private or test CAs); "
        "relative paths are inside the home. Verification itself is always on",
    )
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="connect/read timeout")

    @field_validator("base_url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"{url!r}: egress base_url must be an https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("egress base_url must not carry credentials")
        return url

    @field_validator("pins")
    @classmethod
    def _valid_pins(cls, pins: tuple[str, ...]) -> tuple[str, ...]:
        for pin in pins:
            parse_pin(pin)
        return pins


class EgressSettings(BaseModel):
    """``[egress]``: the providers and how much evidence to keep per provider."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    evidence_keep: int = Field(
        50, ge=1, le=10_000, description="connections kept per provider in egress/evidence.json"
    )
    providers: dict[str, EgressProviderSettings] = Field(default_factory=dict)

    @field_validator("providers")
    @classmethod
    def _provider_names(
        cls, providers: dict[str, EgressProviderSettings]
    ) -> dict[str, EgressProviderSettings]:
        for name in providers:
            if not PROVIDER_NAME.fullmatch(name):
                raise ValueError(
                    f"egress provider name {name!r} must be 1-32 characters of a-z, 0-9 "
                    "and '-', starting with a letter"
                )
        return providers
