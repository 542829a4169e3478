"""Grading profiles: versioned JSON in ``data/profiles`` loaded into typed models.

The two callvault profiles are *derived* from the transport policy our listeners enforce
(``callvault.transport.load_policy``), so the scanner grades against exactly what we ship:
change the policy and the grading follows. The Mozilla profiles copy the Server Side TLS
guidelines, version 5.7, and cite it.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callvault.errors import ConfigError
from callvault.transport import TlsProfile, load_policy

__all__ = ["PROFILE_IDS", "GradingProfile", "load_profiles"]

PROFILE_IDS = (
    "callvault-modern",
    "callvault-legacy-interop",
    "mozilla-modern",
    "mozilla-intermediate",
)
# callvault-v1 names its groups as OpenSSL/RFC 8422 do; the report uses IANA names.
_GROUP_ALIASES = {"X25519": "x25519", "P-256": "secp256r1", "P-384": "secp384r1",
                  "P-521": "secp521r1", "X448": "x448"}  # fmt: skip


class _Derive(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    policy: str
    profile: TlsProfile


class GradingProfile(BaseModel):
    """What an endpoint must look like to pass one profile (suites by IANA name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    version: str
    source: str
    protocols: tuple[str, ...] = Field(min_length=1)
    tls13_suites: tuple[str, ...]
    tls12_suites: tuple[str, ...]
    groups: tuple[str, ...]
    certificate_types: tuple[str, ...] = Field(min_length=1)
    rsa_min_bits: int = Field(ge=2048)
    ec_min_bits: int = Field(ge=256)
    max_certificate_days: int | None = Field(default=None, ge=1)
    hsts_min_age: int = Field(ge=0)
    expiry_warning_days: int = Field(ge=1)


def _derive(raw: dict[str, Any]) -> dict[str, Any]:
    derive = _Derive.model_validate(raw.pop("derive_from"))
    policy = load_policy()
    if policy.policy != derive.policy:
        raise ValueError(f"derives from {derive.policy}, but the shipped policy is {policy.policy}")
    spec = policy.profiles[derive.profile]
    order = ["TLSv1.2", "TLSv1.3"]
    lo, hi = order.index(spec.min_version), order.index(spec.max_version)
    raw["protocols"] = order[lo : hi + 1]
    raw["tls13_suites"] = [s.iana for s in spec.tls13_suites]
    raw["tls12_suites"] = [s.iana for s in spec.tls12_suites]
    raw["groups"] = [_GROUP_ALIASES.get(g, g) for g in spec.groups]
    return raw


@functools.cache
def load_profiles() -> dict[str, GradingProfile]:
    """Every shipped profile by id, in :data:`PROFILE_IDS` order; a defect is a
    :class:`ConfigError` (fail closed: no grading against a half-read profile)."""
    folder = resources.files("callvault.posture.scan").joinpath("data").joinpath("profiles")
    profiles: dict[str, GradingProfile] = {}
    for pid in PROFILE_IDS:
        try:
            raw = json.loads(folder.joinpath(f"{pid}.json").read_text(encoding="utf-8"))
            if "derive_from" in raw:
                raw = _derive(raw)
            profile = GradingProfile.model_validate(raw)
        except (OSError, ValueError, ValidationError) as exc:
            raise ConfigError(f"scan profile {pid} is invalid: {exc}") from None
        if profile.id != pid:
            raise ConfigError(f"scan profile file {pid}.json declares id {profile.id}")
        profiles[pid] = profile
    return profiles
