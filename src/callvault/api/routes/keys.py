"""``/v1/tenants/{tenant}/keys``: the tenant's master keys, as metadata, and their rotation.

Only ``KeyDescription`` crosses this boundary (ids, versions, states, dates, labels): the
vault has no call that returns key bytes, so there is nothing here that could leak them.
Rotation adds a master key version for new wraps; sealed objects keep opening under the
older versions (``min_decrypt_version`` is unchanged), so it needs no re-encryption pass.
Rotation and customer-key changes are audited (``masterkey.rotate``, ``customerkey.set``,
``customerkey.remove``) after validation and before the change; listings log refusals only.

``/customer/{class}`` registers a customer-managed key (``Vault.customer_keys``): the
tenant's own key on a provider the server knows by name; only the tenant's admin may.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from callvault._ids import DataClass
from callvault.api import _audit_events as ev
from callvault.api._auth import require, services
from callvault.api._schemas import KeyList, KeyOut, KeyRotate
from callvault.api.routes._common import errors, trail
from callvault.auth import Action, Principal
from callvault.tenants import Tenant

router = APIRouter(prefix="/v1/tenants/{tenant}/keys", tags=["keys"])

TenantPath = Annotated[str, Path(description="Tenant id", examples=["acme"])]


@router.get("", summary="List the tenant's master keys (metadata only)", responses=errors(404, 503))
def list_keys(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.KEYS_LIST, ev.MASTERKEY_LIST)],
) -> KeyList:
    found = services(request).vault.list_keys(tenant)
    return KeyList(keys=[KeyOut.of(k) for k in sorted(found, key=lambda k: k.key_id)])


@router.post(
    "/rotate",
    summary="Add a new primary version to a tenant master key",
    responses=errors(404, 503),
)
def rotate_key(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.KEYS_ROTATE, ev.MASTERKEY_ROTATE)],
    body: Annotated[KeyRotate | None, Body()] = None,
) -> KeyOut:
    data_class = body.data_class if body is not None else None
    vault = services(request).vault
    kek = vault.kek_for(tenant, data_class)  # validates; the key the KMS call will rotate
    detail = {"class": data_class.value} if data_class is not None else None
    trail(request).point(key_id=kek.key_id, detail=detail)
    return KeyOut.of(vault.rotate_key(tenant, data_class))


class CustomerKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str = Field(
        description="A provider name from [kms_providers] on the server", examples=["acme-hsm"]
    )
    key_id: str = Field(
        description="The key's id on that provider, in the tenant's "
        "namespace: <environment>/<tenant>/<name>",
        examples=["prod/acme/cmk-recordings"],
    )


class CustomerKeyOut(BaseModel):
    data_class: str = Field(alias="class")
    provider: str
    key_id: str
    registered_at: str


class CustomerKeyList(BaseModel):
    customer_keys: list[CustomerKeyOut]


def _customer_list(tenant: Tenant) -> CustomerKeyList:
    return CustomerKeyList(
        customer_keys=[
            CustomerKeyOut.model_validate(
                {
                    "class": cls.value,
                    "provider": key.provider,
                    "key_id": key.key_id,
                    "registered_at": key.registered_at,
                }
            )
            for cls, key in sorted(tenant.customer_keys.items())
        ]
    )


ClassPath = Annotated[DataClass, Path(alias="class", description="Data class")]


@router.get(
    "/customer", summary="The tenant's customer-managed keys, by data class", responses=errors(404)
)
def list_customer_keys(
    request: Request,
    tenant: TenantPath,
    _: Annotated[Principal, require(Action.KEYS_LIST, ev.CUSTOMERKEY_LIST)],
) -> CustomerKeyList:
    return _customer_list(services(request).vault.tenants.get(tenant))


@router.put(
    "/customer/{class}",
    summary="Register the tenant's own key for a data class",
    responses=errors(400, 404, 503),
)
def register_customer_key(
    request: Request,
    tenant: TenantPath,
    data_class: ClassPath,
    body: CustomerKeyIn,
    _: Annotated[Principal, require(Action.KEYS_CUSTOMER, ev.CUSTOMERKEY_SET)],
) -> CustomerKeyList:
    vault = services(request).vault
    vault.tenants.get(tenant)
    trail(request).point(
        key_id=body.key_id, detail={"class": data_class.value, "provider": body.provider}
    )
    return _customer_list(
        vault.customer_keys.register(tenant, data_class, body.provider, body.key_id)
    )


@router.delete(
    "/customer/{class}",
    summary="Go back to the tenant's own master key for a data class",
    responses=errors(404, 503),
)
def remove_customer_key(
    request: Request,
    tenant: TenantPath,
    data_class: ClassPath,
    _: Annotated[Principal, require(Action.KEYS_CUSTOMER, ev.CUSTOMERKEY_REMOVE)],
) -> CustomerKeyList:
    vault = services(request).vault
    current = vault.tenants.get(tenant).customer_keys.get(data_class)
    trail(request).point(
        key_id=current.key_id if current is not None else None,
        detail={"class": data_class.value},
    )
    return _customer_list(services(request).vault.customer_keys.remove(tenant, data_class))
