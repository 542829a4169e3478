"""Request and response bodies of the API (they feed OpenAPI, so every field says what it
is). Requests forbid unknown fields: a typo is a 400, not a silently ignored option."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callvault._ids import DataClass
from callvault.keys.providers import KeyDescription
from callvault.tenants import Tenant

__all__ = [
    "CALLER_DESCRIPTION",
    "CALLER_PATTERN",
    "AnalyticsCreate",
    "AnalyticsOut",
    "Created",
    "ErrorDetail",
    "ErrorResponse",
    "KeyList",
    "KeyOut",
    "KeyRotate",
    "RecordingOut",
    "Segment",
    "TenantCreate",
    "TenantList",
    "TenantOut",
    "TranscriptCreate",
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TenantCreate(_Request):
    id: str = Field(
        description="Tenant id: 1-63 characters of a-z, 0-9 and '-'",
        examples=["acme"],
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
    )
    dedicated_classes: list[DataClass] = Field(
        default_factory=list,
        description="Data classes that get their own master key (default: one shared key)",
    )


class TenantOut(BaseModel):
    id: str = Field(description="Tenant id")
    created_at: str = Field(description="Creation time, ISO 8601 UTC")
    dedicated_classes: list[DataClass] = Field(description="Classes with their own master key")

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        classes = sorted(tenant.dedicated_classes, key=lambda c: c.value)
        return cls(id=tenant.id, created_at=tenant.created_at, dedicated_classes=classes)


class TenantList(BaseModel):
    tenants: list[TenantOut]


class RecordingOut(BaseModel):
    tenant: str = Field(description="Tenant the recording belongs to")
    id: str = Field(description="Recording id (chosen by the caller)")
    size: int = Field(description="Plaintext bytes received and sealed")
    sealed_size: int = Field(description="Bytes stored (header + encrypted chunks)")


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. not_found")
    message: str = Field(description="One line for humans; never secrets or plaintext")


class ErrorResponse(BaseModel):
    error: ErrorDetail


# -- transcripts and analytics ------------------------------------------------------------
# One caller must have one spelling, or its blind index would differ and a search (or an
# erasure) would silently miss records. So each kind of caller identity has one canonical
# form and anything else is refused rather than normalised behind the client's back:
# - a telephone number in E.164 (+15551234567: no spaces, dashes or national prefixes);
# - a SIP or SIPS address of record, user@host with the host in lower case (SIP hosts are
#   case-insensitive, users are not), no parameters or port;
# - anon:<token> for a withheld or anonymous caller: the client picks a pseudonym per call
#   (e.g. anon:<call id>), so each such call has its own subject key and can be erased on
#   its own, instead of every anonymous call sharing one "anonymous" subject.
CALLER_PATTERN = (
    r"^(\+[1-9][0-9]{1,14}"
    r"|sips?:[A-Za-z0-9._~+-]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"
    r"|anon:[A-Za-z0-9._-]{1,64})$"
)
CALLER_DESCRIPTION = (
    "The caller (the data subject), never stored in clear: an E.164 number (+15551234567), "
    "a SIP address of record with a lower-case host (sip:alice@example.com), or "
    "anon:<pseudonym> for a withheld number"
)
Caller = Annotated[
    str,
    Field(
        description=CALLER_DESCRIPTION,
        pattern=CALLER_PATTERN,
        examples=["+15551234567", "sip:alice@example.com", "anon:call-2026-0001"],
    ),
]
CallId = Annotated[
    str,
    Field(
        description="The call this belongs to: 1-128 characters of A-Z a-z 0-9 . _ : -",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        examples=["call-2026-0001"],
    ),
]
Label = Annotated[
    str,
    Field(
        description="A short lower-case label (stored in clear for queries): a-z 0-9 _ -",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
    ),
]
Seconds = Annotated[float, Field(ge=0, le=7 * 24 * 3600, allow_inf_nan=False)]


class Segment(_Request):
    start: Seconds = Field(description="Start, seconds from the beginning of the call")
    end: Seconds = Field(description="End, seconds from the beginning of the call")
    speaker: str = Field(max_length=64, description="Speaker label, e.g. agent or caller")
    text: str = Field(max_length=20_000, description="What was said")

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if not (math.isfinite(self.start) and self.end >= self.start):
            raise ValueError("a segment must not end before it starts")
        return self


class TranscriptCreate(_Request):
    call_id: CallId
    caller: Caller
    text: str = Field(max_length=2_000_000, description="The full transcript text")
    segments: list[Segment] = Field(
        default_factory=list, max_length=20_000, description="Timed segments, optional"
    )
    member_number: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9./-]{1,64}$",
        description="Health-plan member number; sealed on its own (field-level encryption)",
    )
    insurance_number: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9./-]{1,64}$",
        description="Insurance policy number; sealed on its own (field-level encryption)",
    )
    card_last4: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}$",
        description="Last four digits of a payment card (never a full card number); "
        "sealed on its own",
    )


class Created(BaseModel):
    id: str = Field(description="The new record's id")


class AnalyticsCreate(_Request):
    call_id: CallId
    caller: Caller | None = None
    duration_seconds: Seconds = Field(description="Call length in seconds (stored in clear)")
    outcome: Label | None = Field(default=None, description="e.g. resolved (stored in clear)")
    sentiment: Label | None = Field(default=None, description="e.g. positive (stored in clear)")
    notes: str | None = Field(
        default=None, max_length=100_000, description="Free text; sealed, never stored in clear"
    )


class AnalyticsOut(BaseModel):
    id: str
    call_id: str
    caller: str | None
    duration_seconds: float
    outcome: str | None
    sentiment: str | None
    notes: str | None
    created_at: str = Field(description="When it was stored, ISO 8601 UTC")


# -- master keys ----------------------------------------------------------------------------
# Metadata only: ``KeyDescription`` never carries key bytes, and these models have no field
# that could hold them, so a later change to the provider cannot leak material through here.
class KeyOut(BaseModel):
    key_id: str = Field(description="Master key id (a KMS key name, not key material)")
    provider: str = Field(description="KMS provider scheme, e.g. local")
    environment: str = Field(description="Environment the key belongs to")
    state: str = Field(description="enabled, disabled, pending_deletion or destroyed")
    primary_version: int = Field(description="Version that wraps new data keys")
    min_decrypt_version: int = Field(description="Oldest version still allowed to unwrap")
    versions: list[int] = Field(description="Versions that exist")
    created_at: str = Field(description="Creation time, ISO 8601 UTC")
    rotated_at: str = Field(description="Last rotation (creation if never rotated), ISO 8601")
    deletion_date: str | None = Field(default=None, description="Scheduled destruction")
    labels: dict[str, str] = Field(description="Provider labels, e.g. tenant and class")

    @classmethod
    def of(cls, key: KeyDescription) -> KeyOut:
        deletion = key.deletion_date.isoformat() if key.deletion_date else None
        return cls(
            key_id=key.key_id,
            provider=key.provider,
            environment=str(key.environment),
            state=str(key.state),
            primary_version=key.primary_version,
            min_decrypt_version=key.min_decrypt_version,
            versions=list(key.versions),
            created_at=key.created_at.isoformat(),
            rotated_at=key.rotated_at.isoformat(),
            deletion_date=deletion,
            labels=dict(key.labels),
        )


class KeyList(BaseModel):
    keys: list[KeyOut]


class KeyRotate(_Request):
    data_class: DataClass | None = Field(
        default=None,
        alias="class",
        description="Rotate the master key of this class (its dedicated key if it has one, "
        "else the tenant's shared key); omitted: the shared key",
    )
