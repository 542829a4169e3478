"""Request and response bodies of the API (they feed OpenAPI, so every field says what it
is). Requests forbid unknown fields: a typo is a 400, not a silently ignored option."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from callvault._ids import DataClass
from callvault.tenants import Tenant

__all__ = ["ErrorDetail", "ErrorResponse", "RecordingOut", "TenantCreate", "TenantList",
           "TenantOut"]


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
