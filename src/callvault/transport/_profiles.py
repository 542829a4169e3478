"""TLS profiles as versioned data: ``profiles/callvault-v1.json`` loaded into typed models.

The allowlists live in a data file, not in code, because two readers must agree on them:
the context factories (which enforce them on our listeners and clients) and the posture
scanner (which grades other endpoints against them). A change to the policy is a new file
version, reviewed as data.

Loading is itself a check: a profile that lists a suite without forward secrecy or AEAD,
a forbidden protocol version, or anything matching the file's forbidden markers is refused
at load time, so a bad edit to the data cannot silently widen what we negotiate.
"""

from __future__ import annotations

import enum
import functools
import json
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callvault.transport._errors import TlsPolicyError

__all__ = [
    "POLICY_FILE",
    "CipherSuite",
    "Forbidden",
    "ProfileSpec",
    "TlsPolicy",
    "TlsProfile",
    "load_policy",
    "parse_policy",
    "profile_spec",
]

POLICY_FILE = "callvault-v1.json"

TlsVersionName = Literal["TLSv1.2", "TLSv1.3"]
_VERSION_ORDER: dict[str, int] = {"TLSv1.2": 12, "TLSv1.3": 13}


class TlsProfile(enum.StrEnum):
    """The named presets. Callers pick one; they never pass cipher strings."""

    MODERN = "modern"
    LEGACY_INTEROP = "legacy-interop"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CipherSuite(_Frozen):
    """One allowed suite: OpenSSL's name (what ``ssl`` reports), the IANA name (what
    scanners report) and why it is on the list."""

    name: str = Field(min_length=1)
    iana: str = Field(pattern=r"^TLS_[A-Z0-9_]+$")
    why: str = Field(min_length=1)


class Forbidden(_Frozen):
    """What no profile may ever contain, with the reason for each (for docs and posture)."""

    protocols: tuple[str, ...]
    suite_markers: tuple[str, ...]
    reasons: dict[str, str]


class ProfileSpec(_Frozen):
    description: str
    min_version: TlsVersionName
    max_version: TlsVersionName
    tls13_suites: tuple[CipherSuite, ...] = Field(min_length=1)
    tls12_suites: tuple[CipherSuite, ...]
    groups: tuple[str, ...] = Field(min_length=1)
    min_security_level: int = Field(ge=2, le=5)
    session_tickets: Literal[False]
    compression: Literal[False]
    renegotiation: Literal[False]

    @model_validator(mode="after")
    def _versions_consistent(self) -> ProfileSpec:
        if _VERSION_ORDER[self.min_version] > _VERSION_ORDER[self.max_version]:
            raise ValueError("min_version is above max_version")
        if self.max_version != "TLSv1.3":
            raise ValueError("every profile must allow TLS 1.3")
        if self.min_version == "TLSv1.3" and self.tls12_suites:
            raise ValueError("TLS 1.2 suites listed in a TLS 1.3-only profile")
        if self.min_version == "TLSv1.2" and not self.tls12_suites:
            raise ValueError("TLS 1.2 allowed but no TLS 1.2 suite listed")
        for suite in self.tls13_suites:
            if not suite.name.startswith("TLS_"):
                raise ValueError(f"{suite.name}: not a TLS 1.3 suite name")
        for suite in self.tls12_suites:
            # ECDHE only (forward secrecy, no RSA key exchange); AEAD only (no CBC, no
            # SHA-1 MAC: such suites end in "-SHA").
            aead = "-GCM-" in suite.name or suite.name.endswith("-CHACHA20-POLY1305")
            if not suite.name.startswith("ECDHE-") or not aead or suite.name.endswith("-SHA"):
                raise ValueError(f"{suite.name}: TLS 1.2 suites must be ECDHE with an AEAD")
        return self

    @property
    def suite_names(self) -> frozenset[str]:
        """Every suite this profile may negotiate, by OpenSSL name."""
        return frozenset(s.name for s in (*self.tls13_suites, *self.tls12_suites))


class TlsPolicy(_Frozen):
    policy: str = Field(pattern=r"^callvault-v[0-9]+$")
    version: int = Field(ge=1)
    source: str
    forbidden: Forbidden
    profiles: dict[TlsProfile, ProfileSpec]

    @model_validator(mode="after")
    def _nothing_forbidden(self) -> TlsPolicy:
        if set(self.profiles) != set(TlsProfile):
            raise ValueError("the policy must define every named profile, and only those")
        for name, spec in self.profiles.items():
            for version in (spec.min_version, spec.max_version):
                if version in self.forbidden.protocols:
                    raise ValueError(f"{name}: forbidden protocol {version}")
            for suite in spec.suite_names:
                parts = suite.replace("_", "-").split("-")
                hits = [m for m in self.forbidden.suite_markers if m in parts]
                if hits:
                    raise ValueError(f"{name}: {suite} matches forbidden marker {hits[0]}")
        return self


def parse_policy(text: str) -> TlsPolicy:
    """Parse and validate a policy document; any defect is a :class:`TlsPolicyError`."""
    try:
        return TlsPolicy.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise TlsPolicyError(f"invalid TLS policy: {exc}") from None


@functools.cache
def load_policy() -> TlsPolicy:
    """The policy shipped with this version of callvault (read once, then cached)."""
    path = resources.files("callvault.transport").joinpath("profiles", POLICY_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TlsPolicyError(f"TLS policy file {POLICY_FILE} is missing: {exc}") from None
    return parse_policy(text)


def profile_spec(profile: TlsProfile) -> ProfileSpec:
    return load_policy().profiles[TlsProfile(profile)]
