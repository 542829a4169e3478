"""``/v1/tenants/{tenant}/analytics``: store a call's analytics row (labels in clear, caller
and notes sealed) and read it back. The work is in ``api._analytics``."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Request

from callvault.api import _audit_events as ev
from callvault.api._analytics import Analytics
from callvault.api._auth import require, services
from callvault.api._schemas import AnalyticsCreate, AnalyticsOut, Created
from callvault.api.routes._common import errors, records_of, trail
from callvault.auth import Action, Principal

router = APIRouter(prefix="/v1/tenants/{tenant}/analytics", tags=["analytics"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]
IdPath = Annotated[str, Path(description="Analytics row id, as returned by POST")]


def _analytics(request: Request) -> Analytics:
    return Analytics(services(request).vault, records_of(request), trail(request).point)


@router.post("", status_code=201, summary="Store a call's analytics", responses=errors(404, 503))
async def post_analytics(
    request: Request,
    tenant: TenantPath,
    body: AnalyticsCreate,
    _: Annotated[Principal, require(Action.ANALYTICS_WRITE, ev.ANALYTICS_WRITE)],
) -> Created:
    record_id = await anyio.to_thread.run_sync(_analytics(request).add, tenant, body)
    return Created(id=record_id)


@router.get("/{analytics_id}", summary="Read a call's analytics", responses=errors(404, 410, 503))
def get_analytics(
    request: Request,
    tenant: TenantPath,
    analytics_id: IdPath,
    _: Annotated[Principal, require(Action.ANALYTICS_READ, ev.ANALYTICS_READ)],
) -> AnalyticsOut:
    return _analytics(request).get(tenant, analytics_id)
