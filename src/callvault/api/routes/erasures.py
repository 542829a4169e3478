"""``/v1/tenants/{tenant}/erasures``: request an erasure (subject, record or the whole
tenant), list a tenant's requests, cancel one within its grace period. Executing due
requests is ``callvault erasures run-due`` (a scheduler's job, not a request's); the work is
in ``callvault.erasure``, which writes the audit entries of scheduling, cancelling and
executing; these routes add only refusals (``denied``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from callvault.api import _audit_events as ev
from callvault.api._auth import require, services
from callvault.api._errors import Conflict, NotFound
from callvault.api._schemas import Caller
from callvault.api.routes._common import errors
from callvault.auth import Action, Principal
from callvault.erasure import (
    MAX_GRACE_DAYS,
    ErasureRequest,
    Erasures,
    Target,
)
from callvault.errors import InvalidRequest, KeyNotFound

router = APIRouter(prefix="/v1/tenants/{tenant}/erasures", tags=["erasures"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]
IdPath = Annotated[str, Path(description="Erasure request id, as returned by POST")]


class ErasureCreate(BaseModel):
    """Exactly one of ``subject``, ``record`` or ``all``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    subject: Caller | None = None
    record: str | None = Field(
        default=None,
        max_length=128,
        description="A recording id, transcript id or analytics row id of this tenant",
    )
    all: bool = Field(default=False, description="Erase the whole tenant")
    grace_days: int | None = Field(
        default=None,
        ge=0,
        le=MAX_GRACE_DAYS,
        description="7-30 days before execution (default 7); 0 only in environment dev",
    )

    @model_validator(mode="after")
    def _one_target(self) -> ErasureCreate:
        if (self.subject is not None) + (self.record is not None) + self.all != 1:
            raise ValueError("name exactly one of subject, record or all")
        return self


class ErasureOut(BaseModel):
    id: str
    tenant: str
    kind: str = Field(description="subject, record or tenant")
    target: str = Field(
        description="The subject's blind id (hex, never the number), the record id, or the tenant"
    )
    record_kind: str | None
    state: str = Field(description="scheduled, running, cancelled or done")
    grace_days: int
    requested_at: datetime
    due_at: datetime
    finished_at: datetime | None
    has_receipt: bool

    @classmethod
    def of(cls, request: ErasureRequest) -> ErasureOut:
        return cls(**request.as_json())


class ErasureList(BaseModel):
    erasures: list[ErasureOut] = Field(description="Oldest first")


def _erasures(request: Request) -> Erasures:
    found = services(request)
    return Erasures(found.vault, found.objects, found.records)


@router.post("", status_code=201, summary="Request an erasure", responses=errors(404))
def create_erasure(
    request: Request,
    response: Response,
    tenant: TenantPath,
    body: ErasureCreate,
    _: Annotated[Principal, require(Action.ERASURES_CREATE, ev.ERASURE_SCHEDULE)],
) -> ErasureOut:
    target = Target(subject=body.subject, record=body.record, tenant=body.all)
    created = _erasures(request).schedule(tenant, target, body.grace_days)
    response.headers["location"] = f"/v1/tenants/{tenant}/erasures/{created.id}"
    return ErasureOut.of(created)


@router.get("", summary="List a tenant's erasure requests", responses=errors(404))
def list_erasures(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.ERASURES_LIST, ev.ERASURE_LIST)],
) -> ErasureList:
    services(request).vault.tenants.get(tenant)
    found = _erasures(request).list_requests(tenant)
    return ErasureList(erasures=[ErasureOut.of(r) for r in found])


@router.delete(
    "/{erasure_id}", summary="Cancel an erasure in its grace period", responses=errors(404, 409)
)
def cancel_erasure(
    request: Request,
    tenant: TenantPath,
    erasure_id: IdPath,
    _: Annotated[Principal, require(Action.ERASURES_CANCEL, ev.ERASURE_CANCEL)],
) -> ErasureOut:
    erasures = _erasures(request)
    try:
        if erasures.get(erasure_id).tenant != tenant:
            raise KeyNotFound  # another tenant's id: not found, not "forbidden"
        return ErasureOut.of(erasures.cancel(erasure_id, tenant=tenant))
    except KeyNotFound:
        raise NotFound(f"no erasure {erasure_id}") from None
    except InvalidRequest as exc:  # not scheduled any more, or the grace period is over
        raise Conflict(str(exc)) from None
