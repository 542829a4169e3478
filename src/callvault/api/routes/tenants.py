"""``/v1/tenants``: create (platform), list (platform), read one (platform or the tenant).

Creating is audited (``tenant.create``, logged once the id is known to be free and before
the tenant's keys are made); the reads log only refusals."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from callvault.api import _audit_events as ev
from callvault.api._auth import require, services
from callvault.api._schemas import TenantCreate, TenantList, TenantOut
from callvault.api.routes._common import errors, trail
from callvault.auth import Action, Principal
from callvault.errors import KeyNotFound, TenantExists

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]


@router.post(
    "", status_code=201, summary="Create a tenant and its master keys", responses=errors(409)
)
def create_tenant(
    body: TenantCreate,
    request: Request,
    response: Response,
    _: Annotated[Principal, require(Action.TENANTS_CREATE, ev.TENANT_CREATE)],
) -> TenantOut:
    vault = services(request).vault
    with contextlib.suppress(KeyNotFound):
        vault.tenants.get(body.id)
        raise TenantExists(f"tenant {body.id} already exists")
    audit = trail(request)
    audit.tenant = body.id
    audit.point(detail={"dedicated": ",".join(sorted(c.value for c in body.dedicated_classes))})
    tenant = vault.create_tenant(body.id, body.dedicated_classes)
    response.headers["location"] = f"/v1/tenants/{tenant.id}"
    return TenantOut.of(tenant)


@router.get("", summary="List tenants", responses=errors())
def list_tenants(
    request: Request, _: Annotated[Principal, require(Action.TENANTS_LIST, ev.TENANT_LIST)]
) -> TenantList:
    return TenantList(tenants=[TenantOut.of(t) for t in services(request).vault.tenants.list()])


@router.get("/{tenant}", summary="Read one tenant", responses=errors(404))
def get_tenant(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.TENANTS_READ, ev.TENANT_READ)],
) -> TenantOut:
    return TenantOut.of(services(request).vault.tenants.get(tenant))
