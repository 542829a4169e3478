"""``/v1/tenants/{tenant}/api-keys``: customer API keys, self-service (``apikeys:manage``).

Create and rotate return the key once (``ApiKeyIssued.api_key``); the store keeps only its
keyed hash, so nothing here can show it again, and the list and describe routes return
metadata only. Every route goes through ``require(Action.APIKEYS_MANAGE, …)``, which checks
the credential's tenant against the path before anything else runs. On top of that, the
role of a key being issued (create) or re-issued (rotate) must pass ``check_grant``: a tenant
role whose every permission the caller holds itself, so no key ever outranks whoever minted
it and no key is ever a platform role. Revoking needs no such check: it only takes away.

Key lifecycle events are logged (key id, tenant, role, who) for the operator; the key
itself never is. Issue, rotate and revoke are audited (``apikey.issue``/``rotate``/``revoke``)
after their checks and before the change; the object id is the API key id (for ``issue``,
which mints the id, the entry names the role; the id is in the response). Another tenant's
key id answers 404, like an unknown one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request

from callvault.api import _audit_events as ev
from callvault.api._api_key_schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyList,
    ApiKeyOut,
    ApiKeyRotate,
)
from callvault.api._auth import require, services
from callvault.api.routes._common import errors, trail
from callvault.auth import Action, ApiKeyStore, Principal, check_grant

__all__ = ["router"]

log = logging.getLogger("callvault.api")

router = APIRouter(prefix="/v1/tenants/{tenant}/api-keys", tags=["api-keys"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]
KeyIdPath = Annotated[
    str,
    Path(pattern=r"^[a-z2-7]{16}$", description="API key id (the part after cvk_)"),
]
Issuer = Annotated[Principal, require(Action.APIKEYS_MANAGE, ev.APIKEY_ISSUE)]
Lister = Annotated[Principal, require(Action.APIKEYS_MANAGE, ev.APIKEY_LIST)]
Reader = Annotated[Principal, require(Action.APIKEYS_MANAGE, ev.APIKEY_READ)]
Rotator = Annotated[Principal, require(Action.APIKEYS_MANAGE, ev.APIKEY_ROTATE)]
Revoker = Annotated[Principal, require(Action.APIKEYS_MANAGE, ev.APIKEY_REVOKE)]


def _store(request: Request, tenant: str) -> ApiKeyStore:
    services(request).vault.tenants.get(tenant)  # an unknown tenant is a 404
    return services(request).api_keys


@router.post("", status_code=201, summary="Create an API key (shown once)", responses=errors(404))
def create_api_key(
    request: Request, tenant: TenantPath, body: ApiKeyCreate, principal: Issuer
) -> ApiKeyIssued:
    check_grant(principal, body.role)
    lifetime = None if body.ttl_seconds is None else timedelta(seconds=body.ttl_seconds)
    store = _store(request, tenant)
    trail(request).point(detail={"role": str(body.role)})  # the key id exists only after
    new = store.create(tenant, body.role, body.label, lifetime=lifetime)
    log.info(
        "API key %s created: tenant %s, role %s, by %s",
        new.info.key_id,
        tenant,
        new.info.role,
        principal.subject,
    )
    return ApiKeyIssued.issued(new)


@router.get("", summary="List the tenant's API keys (metadata only)", responses=errors(404))
def list_api_keys(request: Request, tenant: TenantPath, _: Lister) -> ApiKeyList:
    found = _store(request, tenant).list(tenant)
    return ApiKeyList(api_keys=[ApiKeyOut.of(info) for info in found])


@router.get("/{key_id}", summary="Describe an API key (metadata only)", responses=errors(404))
def get_api_key(request: Request, tenant: TenantPath, key_id: KeyIdPath, _: Reader) -> ApiKeyOut:
    return ApiKeyOut.of(_store(request, tenant).get(tenant, key_id))


@router.post(
    "/{key_id}/rotate",
    summary="Issue a new secret for an API key (shown once)",
    responses=errors(404),
)
def rotate_api_key(
    request: Request,
    tenant: TenantPath,
    key_id: KeyIdPath,
    principal: Rotator,
    body: Annotated[ApiKeyRotate | None, Body()] = None,
) -> ApiKeyIssued:
    store = _store(request, tenant)
    check_grant(principal, store.get(tenant, key_id).role)
    seconds = None if body is None else body.overlap_seconds
    overlap = None if seconds is None else timedelta(seconds=seconds)
    trail(request).point(key_id)
    new = store.rotate(tenant, key_id, overlap=overlap)
    log.info("API key %s rotated: tenant %s, by %s", key_id, tenant, principal.subject)
    return ApiKeyIssued.issued(new)


@router.delete(
    "/{key_id}", summary="Revoke an API key (every secret, at once)", responses=errors(404)
)
def revoke_api_key(
    request: Request, tenant: TenantPath, key_id: KeyIdPath, principal: Revoker
) -> ApiKeyOut:
    store = _store(request, tenant)
    store.get(tenant, key_id)  # another tenant's or an unknown key: 404, nothing logged as ok
    trail(request).point(key_id)
    info = store.revoke(tenant, key_id)
    log.info("API key %s revoked: tenant %s, by %s", key_id, tenant, principal.subject)
    return ApiKeyOut.of(info)
