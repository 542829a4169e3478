"""Request and response bodies of ``/v1/tenants/{tenant}/api-keys``.

``ApiKeyOut`` is built from ``ApiKeyInfo`` and has no field that could carry a secret or its
hash; only ``ApiKeyIssued`` (the answer to create and rotate) carries the key, once. Requests
forbid unknown fields, so a misspelt option is a 400, never silently ignored.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callvault.auth import ApiKeyInfo, NewApiKey, Role

__all__ = ["ApiKeyCreate", "ApiKeyIssued", "ApiKeyList", "ApiKeyOut", "ApiKeyRotate"]

_DAY = 24 * 3600


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiKeyCreate(_Request):
    role: Role = Field(
        description="Role of the key: a tenant role the caller holds no less than "
        "(tenant-admin may issue tenant-admin or service keys; platform roles never)",
        examples=["service"],
    )
    label: str = Field(
        min_length=1,
        max_length=64,
        description="What the key is for (1-64 printable characters), shown in listings",
        examples=["voice agent, eu-west"],
    )
    ttl_seconds: int | None = Field(
        default=None,
        ge=3600,
        le=365 * _DAY,
        description="Lifetime in seconds; omitted: the server's default (90 days), which is "
        "also the most a key may ask for",
    )


class ApiKeyRotate(_Request):
    overlap_seconds: int | None = Field(
        default=None,
        ge=0,
        le=7 * _DAY,
        description="How long the previous secret keeps working, so a deployment can roll; "
        "omitted: the server's default (24 h), which is also the most allowed; 0: at once",
    )


class ApiKeyOut(BaseModel):
    key_id: str = Field(description="The key's public id (the part after cvk_)")
    tenant: str = Field(description="The tenant the key acts for")
    role: Role = Field(description="The role the key carries")
    label: str = Field(description="What the key is for")
    created_at: datetime = Field(description="Creation time, ISO 8601 UTC")
    expires_at: datetime = Field(description="After this the key is refused (401)")
    rotated_at: datetime | None = Field(description="Last rotation, if any")
    revoked_at: datetime | None = Field(description="Revocation time; a revoked key is refused")

    @classmethod
    def of(cls, info: ApiKeyInfo) -> ApiKeyOut:
        return cls(
            key_id=info.key_id,
            tenant=info.tenant,
            role=info.role,
            label=info.label,
            created_at=info.created_at,
            expires_at=info.expires_at,
            rotated_at=info.rotated_at,
            revoked_at=info.revoked_at,
        )


class ApiKeyIssued(ApiKeyOut):
    api_key: str = Field(
        repr=False,
        description="The whole key, to send as `Authorization: Bearer cvk_…`. Shown this "
        "once: the server keeps only a keyed hash of it and cannot show it again",
    )
    previous_valid_until: datetime | None = Field(
        default=None,
        description="After a rotation: until when the superseded secret still works "
        "(null: it no longer does)",
    )

    @classmethod
    def issued(cls, new: NewApiKey) -> ApiKeyIssued:
        base = ApiKeyOut.of(new.info).model_dump()
        return cls(**base, api_key=new.secret, previous_valid_until=new.previous_valid_until)


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut] = Field(
        description="Every key of the tenant, revoked and expired ones included; metadata only"
    )
