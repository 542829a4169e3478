"""``/v1/tenants/{tenant}/keys``: metadata listing and rotation, per the permission table,
and never a byte of key material in a response."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from callvault import Environment, Vault
from callvault.api import ApiServices
from callvault.keys import KeyMaterial
from callvault.keys.providers import LocalKms, resolve_root_key
from callvault.keys.providers._keyring_file import KeyringFile


def _materials(api) -> list[bytes]:
    """The root key and every master key version's bytes, read from the keyring file."""
    root = resolve_root_key(api.vault.home)
    doc = KeyringFile(api.vault.home / "keys" / "keyring.cvkr", root, api.vault.environment).load()
    secrets = [root.secret_bytes()]
    for entry in doc["keys"].values():
        secrets += [
            base64.b64decode(v["material"]) for v in entry["versions"].values() if "material" in v
        ]
    assert len(secrets) > 2
    return secrets


def _assert_no_material(api, payload: bytes) -> None:
    for secret in _materials(api):
        for form in (
            secret,
            secret.hex().encode(),
            secret.hex().upper().encode(),
            base64.b64encode(secret),
            base64.urlsafe_b64encode(secret).rstrip(b"="),
        ):
            assert form not in payload


def _shared(keys: list[dict], tenant: str) -> dict:
    [key] = [k for k in keys if k["key_id"].endswith(f"/{tenant}/default")]
    return key


def test_tenant_admin_lists_and_rotates_own_keys(api) -> None:
    recording = f"before-rotation-{uuid.uuid4().hex[:8]}"
    with api.client(api.token("tenant-admin", "acme")) as client:
        assert (
            client.put(
                f"/v1/tenants/acme/recordings/{recording}", content=b"sealed before rotation"
            ).status_code
            == 201
        )
        listed = client.get("/v1/tenants/acme/keys")
        assert listed.status_code == 200, listed.text
        keys = listed.json()["keys"]
        assert keys and all(k["labels"].get("tenant") == "acme" for k in keys)
        before = _shared(keys, "acme")
        assert set(before) == {
            "key_id",
            "provider",
            "environment",
            "state",
            "primary_version",
            "min_decrypt_version",
            "versions",
            "created_at",
            "rotated_at",
            "deletion_date",
            "labels",
        }
        assert before["state"] == "enabled" and before["environment"] == "dev"

        rotated = client.post("/v1/tenants/acme/keys/rotate")
        assert rotated.status_code == 200, rotated.text
        after = rotated.json()
        assert after["key_id"] == before["key_id"]
        assert after["primary_version"] == before["primary_version"] + 1
        assert after["versions"] == [*before["versions"], after["primary_version"]]
        assert after["min_decrypt_version"] == before["min_decrypt_version"]
        assert _shared(client.get("/v1/tenants/acme/keys").json()["keys"], "acme") == after

        # Recordings have no dedicated key in acme: the class names the shared key.
        again = client.post("/v1/tenants/acme/keys/rotate", json={"class": "recording"})
        assert again.status_code == 200, again.text
        assert again.json()["primary_version"] == after["primary_version"] + 1

        opened = client.get(f"/v1/tenants/acme/recordings/{recording}")
        assert opened.status_code == 200 and opened.content == b"sealed before rotation"
        for payload in (listed.content, rotated.content, again.content):
            _assert_no_material(api, payload)


def test_dedicated_class_key_rotates_alone(api) -> None:
    name = f"k-{uuid.uuid4().hex[:10]}"
    with api.client(api.token("platform-admin")) as client:
        created = client.post("/v1/tenants", json={"id": name, "dedicated_classes": ["transcript"]})
        assert created.status_code == 201
        keys = {k["key_id"]: k for k in client.get(f"/v1/tenants/{name}/keys").json()["keys"]}
        assert len(keys) == 2
        rotated = client.post(f"/v1/tenants/{name}/keys/rotate", json={"class": "transcript"})
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["key_id"].endswith(f"{name}/transcript")
        now = {k["key_id"]: k for k in client.get(f"/v1/tenants/{name}/keys").json()["keys"]}
        changed = [k for k in now if now[k]["primary_version"] != keys[k]["primary_version"]]
        assert changed == [rotated.json()["key_id"]]


def test_other_tenant_is_forbidden(api) -> None:
    with api.client(api.token("tenant-admin", "acme")) as client:
        before = api.vault.list_keys("globex")
        for response in (
            client.get("/v1/tenants/globex/keys"),
            client.post("/v1/tenants/globex/keys/rotate"),
            client.get("/v1/tenants/nobody/keys"),
        ):
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "forbidden"
        assert api.vault.list_keys("globex") == before


@pytest.mark.parametrize(
    ("role", "tenant", "may_list", "may_rotate"),
    [
        ("service", "acme", False, False),
        ("auditor", None, True, False),
        ("platform-admin", None, True, True),
    ],
)
def test_roles_follow_the_permission_table(
    api, role: str, tenant: str | None, may_list: bool, may_rotate: bool
) -> None:
    before = api.vault.list_keys("globex" if tenant is None else tenant)
    target = tenant or "globex"
    with api.client(api.token(role, tenant)) as client:
        listed = client.get(f"/v1/tenants/{target}/keys")
        assert listed.status_code == (200 if may_list else 403), listed.text
        rotated = client.post(f"/v1/tenants/{target}/keys/rotate", json={})
        assert rotated.status_code == (200 if may_rotate else 403), rotated.text
    changed = api.vault.list_keys(target) != before
    assert changed is may_rotate


def test_bad_input(api) -> None:
    with api.client(api.token("platform-admin")) as client:
        for body in ({"class": "nope"}, {"klass": "recording"}, {"data_class": "recording"}):
            response = client.post("/v1/tenants/acme/keys/rotate", json=body)
            assert response.status_code == 400, (body, response.text)
        missing = client.get("/v1/tenants/no-such-tenant/keys")
        assert missing.status_code == 404, missing.text
        assert client.post("/v1/tenants/no-such-tenant/keys/rotate").status_code == 404


def test_customer_managed_key_routes(
    tmp_path: Path, vault_factory: Callable[..., Vault], start_server: Callable[..., Any]
) -> None:
    base = vault_factory(tmp_path / "home")
    customer = LocalKms(
        tmp_path / "customer.cvkr", KeyMaterial(os.urandom(32), "root"), Environment.DEV
    )
    customer.create_key("dev/acme/cmk-recordings", {})
    customer.create_key("dev/globex/cmk-recordings", {})
    vault = Vault(base.home, base.settings, base.provider, {"acme-hsm": customer})
    api = start_server(vault, ApiServices.from_settings(vault))
    path = "/v1/tenants/acme/keys/customer/recording"
    body = {"provider": "acme-hsm", "key_id": "dev/acme/cmk-recordings"}
    for role, tenant in (("service", "acme"), ("platform-admin", None), ("tenant-admin", "globex")):
        with api.client(api.token(role, tenant)) as client:
            assert client.put(path, json=body).status_code == 403, role
    with api.client(api.token("tenant-admin", "acme")) as admin:
        theirs = admin.put(path, json={**body, "key_id": "dev/globex/cmk-recordings"})
        assert theirs.status_code == 400 and "dev/acme/" in theirs.json()["error"]["message"]
        unknown = admin.put(path, json={**body, "provider": "nowhere"})
        assert unknown.status_code == 400
        assert admin.put(path, json={**body, "extra": 1}).status_code == 400
        done = admin.put(path, json=body)
        assert done.status_code == 200, done.text
        assert done.json()["customer_keys"] == [
            {
                "class": "recording",
                "provider": "acme-hsm",
                "key_id": "dev/acme/cmk-recordings",
                "registered_at": done.json()["customer_keys"][0]["registered_at"],
            }
        ]
        put = admin.put("/v1/tenants/acme/recordings/r1?subject=%2B15550000001", content=b"a")
        assert put.status_code == 201
        customer.disable_key("dev/acme/cmk-recordings")
        vault.cache.clear()
        assert admin.get("/v1/tenants/acme/recordings/r1").status_code == 503
        customer.enable_key("dev/acme/cmk-recordings")
        assert admin.get("/v1/tenants/acme/recordings/r1").content == b"a"
        assert admin.get("/v1/tenants/acme/keys/customer").json() == done.json()
        removed = admin.delete(path)
        assert removed.status_code == 200 and removed.json() == {"customer_keys": []}
