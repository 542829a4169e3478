"""``/v1/tenants``: create (platform), list (platform), read one (platform or the tenant)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from callvault.api._auth import require, services
from callvault.api._schemas import TenantCreate, TenantList, TenantOut
from callvault.api.routes._common import errors
from callvault.auth import Action, Principal

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]


@router.post(
    "", status_code=201, summary="Create a tenant and its master keys", responses=errors(409)
)
def create_tenant(
    body: TenantCreate,
    request: Request,
    response: Response,
    _: Annotated[Principal, require(Action.TENANTS_CREATE)],
) -> TenantOut:
    tenant = services(request).vault.create_tenant(body.id, body.dedicated_classes)
    response.headers["location"] = f"/v1/tenants/{tenant.id}"
    return TenantOut.of(tenant)


@router.get("", summary="List tenants", responses=errors())
def list_tenants(
    request: Request, _: Annotated[Principal, require(Action.TENANTS_LIST)]
) -> TenantList:
    return TenantList(tenants=[TenantOut.of(t) for t in services(request).vault.tenants.list()])


@router.get("/{tenant}", summary="Read one tenant", responses=errors(404))
def get_tenant(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.TENANTS_READ)],
) -> TenantOut:
    return TenantOut.of(services(request).vault.tenants.get(tenant))
