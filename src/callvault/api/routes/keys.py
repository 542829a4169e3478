"""``/v1/tenants/{tenant}/keys``: the tenant's master keys, as metadata, and their rotation.

Only ``KeyDescription`` crosses this boundary (ids, versions, states, dates, labels): the
vault has no call that returns key bytes, so there is nothing here that could leak them.
Rotation adds a master key version for new wraps; sealed objects keep opening under the
older versions (``min_decrypt_version`` is unchanged), so it needs no re-encryption pass.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request

from callvault.api._auth import require, services
from callvault.api._schemas import KeyList, KeyOut, KeyRotate
from callvault.api.routes._common import errors
from callvault.auth import Action, Principal

router = APIRouter(prefix="/v1/tenants/{tenant}/keys", tags=["keys"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]


@router.get("", summary="List the tenant's master keys (metadata only)",
            responses=errors(404, 503))
def list_keys(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.KEYS_LIST)],
) -> KeyList:
    found = services(request).vault.list_keys(tenant)
    return KeyList(keys=[KeyOut.of(k) for k in sorted(found, key=lambda k: k.key_id)])


@router.post("/rotate", summary="Add a new primary version to a tenant master key",
             responses=errors(404, 503))
def rotate_key(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.KEYS_ROTATE)],
    body: Annotated[KeyRotate | None, Body()] = None,
) -> KeyOut:
    data_class = body.data_class if body is not None else None
    return KeyOut.of(services(request).vault.rotate_key(tenant, data_class))
