"""Customer API keys over HTTPS: the self-service lifecycle (create, use, rotate, revoke),
who may manage and mint which keys, and where a key must never show up again (logs, list
output, any file of the home). Ends with the route-table checks that cover every route of
the live app, so these routes (and any added later) are guarded and tenant-checked."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import APIRoute

from callvault.api import PUBLIC_PATHS
from callvault.api._auth import ACTION_ATTRIBUTE
from callvault.api.routes import ROUTERS
from callvault.auth import (
    API_KEY_FILE,
    Action,
    ApiKeyStore,
    AuthenticationError,
    Scope,
    default_table,
)

URL = "/v1/tenants/{}/api-keys"
KEY = re.compile(r"cvk_([a-z2-7]{16})_([a-z2-7]{52})")
LISTED = {
    "key_id",
    "tenant",
    "role",
    "label",
    "created_at",
    "expires_at",
    "rotated_at",
    "revoked_at",
}


def _create(api, tenant: str = "acme", token: str | None = None, **body: object) -> dict:
    token = token or api.token("tenant-admin", tenant)
    with api.client(token) as client:
        response = client.post(URL.format(tenant), json={"role": "service", "label": "x", **body})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def _uses(api, key: str, tenant: str = "acme") -> int:
    """Status of a real data-route call (store then read a recording) made with ``key``."""
    name = f"k-{secrets.token_hex(4)}"
    with api.client(key) as client:
        put = client.put(f"/v1/tenants/{tenant}/recordings/{name}", content=b"via key")
        if put.status_code != 201:
            return put.status_code
        got = client.get(f"/v1/tenants/{tenant}/recordings/{name}")
        assert got.content == b"via key"
        return got.status_code


def _expect_401(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["message"] == AuthenticationError.MESSAGE


def test_lifecycle_create_use_rotate_revoke(api) -> None:
    created = _create(api, label="voice agent", ttl_seconds=7 * 24 * 3600)
    key = created["api_key"]
    match = KEY.fullmatch(key)
    assert match is not None and match.group(1) == created["key_id"]
    assert (created["tenant"], created["role"], created["label"]) == (
        "acme",
        "service",
        "voice agent",
    )
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    assert _uses(api, key) == 200

    path = f"{URL.format('acme')}/{created['key_id']}"
    with api.client(api.token("tenant-admin", "acme")) as admin:
        rotated = admin.post(f"{path}/rotate", json={"overlap_seconds": 0})
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()
        assert new["key_id"] == created["key_id"] and new["api_key"] != key
        assert new["previous_valid_until"] is None and new["rotated_at"]
        assert rotated.headers["cache-control"] == "no-store"
        with api.client(key) as client:
            _expect_401(client.get("/v1/tenants/acme/recordings/x"))
        assert _uses(api, new["api_key"]) == 200

        revoked = admin.delete(path)
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        assert set(revoked.json()) == LISTED
        with api.client(new["api_key"]) as client:
            _expect_401(client.get("/v1/tenants/acme/recordings/x"))
        assert admin.delete(path).status_code == 200  # idempotent
        again = admin.post(f"{path}/rotate")  # no resurrection by rotation
        assert again.status_code == 400 and "api_key" not in again.text
        listed = admin.get(URL.format("acme")).json()["api_keys"]
        assert [k["revoked_at"] for k in listed if k["key_id"] == created["key_id"]] != [None]


def test_rotation_keeps_the_old_secret_for_the_documented_overlap(api) -> None:
    created = _create(api)
    with api.client(api.token("tenant-admin", "acme")) as admin:
        response = admin.post(f"{URL.format('acme')}/{created['key_id']}/rotate")
        assert response.status_code == 200, response.text
        new = response.json()
        too_long = admin.post(
            f"{URL.format('acme')}/{created['key_id']}/rotate",
            json={"overlap_seconds": 2 * 24 * 3600},
        )
        assert too_long.status_code == 400  # above the 24 h the server allows
    until = datetime.fromisoformat(new["previous_valid_until"])
    assert timedelta(hours=23, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=24)
    assert _uses(api, created["api_key"]) == 200  # still within the overlap
    assert _uses(api, new["api_key"]) == 200


def test_a_tenant_admin_key_manages_keys_and_a_service_key_cannot(api) -> None:
    admin_key = _create(api, role="tenant-admin", label="ops")["api_key"]
    minted = _create(api, token=admin_key, label="minted by a key")
    assert _uses(api, minted["api_key"]) == 200
    service_key = minted["api_key"]
    for credential in (service_key, api.token("service", "acme")):
        with api.client(credential) as client:
            for method, path, body in [
                ("POST", URL.format("acme"), {"role": "service", "label": "x"}),
                ("GET", URL.format("acme"), None),
                ("GET", f"{URL.format('acme')}/{minted['key_id']}", None),
                ("POST", f"{URL.format('acme')}/{minted['key_id']}/rotate", None),
                ("DELETE", f"{URL.format('acme')}/{minted['key_id']}", None),
            ]:
                response = client.request(method, path, json=body)
                assert response.status_code == 403, (method, path, response.text)
                assert "api_key" not in response.text
    assert _uses(api, service_key) == 200  # the refused revoke changed nothing


@pytest.mark.parametrize("role", ["platform-admin", "auditor"])
def test_no_key_ever_carries_a_platform_role(api, role: str) -> None:
    with api.client(api.token("tenant-admin", "acme")) as client:
        response = client.post(URL.format("acme"), json={"role": role, "label": "escalate"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    for platform in ("platform-admin", "auditor"):  # nor may a platform role manage keys
        with api.client(api.token(platform)) as client:
            refused = client.post(URL.format("acme"), json={"role": "service", "label": "x"})
            assert refused.status_code == 403


def test_cross_tenant_is_forbidden_and_foreign_ids_are_not_found(api) -> None:
    theirs = _create(api, tenant="globex")
    acme = api.token("tenant-admin", "acme")
    with api.client(acme) as client:
        for method, path in [
            ("POST", URL.format("globex")),
            ("GET", URL.format("globex")),
            ("GET", f"{URL.format('globex')}/{theirs['key_id']}"),
            ("POST", f"{URL.format('globex')}/{theirs['key_id']}/rotate"),
            ("DELETE", f"{URL.format('globex')}/{theirs['key_id']}"),
        ]:
            body = {"role": "service", "label": "x"} if path.endswith("api-keys") else None
            response = client.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
        # globex's key id under acme's own path: not found, exactly like an unknown id.
        for method, suffix in [("GET", ""), ("POST", "/rotate"), ("DELETE", "")]:
            for key_id in (theirs["key_id"], "a" * 16):
                response = client.request(method, f"{URL.format('acme')}/{key_id}{suffix}")
                assert response.status_code == 404, (method, suffix, response.text)
        listed = client.get(URL.format("acme")).json()["api_keys"]
        assert theirs["key_id"] not in {k["key_id"] for k in listed}
    acme_key = _create(api)["api_key"]
    assert _uses(api, theirs["api_key"], "globex") == 200  # untouched
    assert _uses(api, acme_key, "globex") == 403


@pytest.mark.parametrize(
    "body",
    [
        {"role": "root", "label": "x"},
        {"role": "service"},
        {"role": "service", "label": ""},
        {"role": "service", "label": "x" * 65},
        {"role": "service", "label": "tab\there"},
        {"role": "service", "label": "x", "ttl_seconds": 60},
        {"role": "service", "label": "x", "ttl_seconds": 200 * 24 * 3600},  # > the 90 days
        {"role": "service", "label": "x", "expires": "never"},
    ],
)
def test_bad_requests_are_400_and_create_nothing(api, body: dict) -> None:
    with api.client(api.token("tenant-admin", "globex")) as client:
        before = client.get(URL.format("globex")).json()
        response = client.post(URL.format("globex"), json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_request"
        assert client.get(URL.format("globex")).json() == before
        assert client.get(f"{URL.format('globex')}/NOT-AN-ID").status_code == 400
    with api.client(api.token("tenant-admin", "no-such-tenant")) as client:
        assert client.get(URL.format("no-such-tenant")).status_code == 404


def test_the_key_never_shows_up_again(api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    created = _create(api, label="leak check")
    key = created["api_key"]
    with api.client(api.token("tenant-admin", "acme")) as admin:
        path = f"{URL.format('acme')}/{created['key_id']}"
        rotated = admin.post(f"{path}/rotate").json()["api_key"]
        assert _uses(api, key) == _uses(api, rotated) == 200
        key_id, secret = KEY.fullmatch(key).groups()  # type: ignore[union-attr]
        wrong = ("b" if secret[0] == "a" else "a") + secret[1:]  # always a different secret
        with api.client(f"cvk_{key_id}_{wrong}") as client:  # a logged 401
            _expect_401(client.get("/v1/tenants/acme/recordings/x"))
        listed = admin.get(URL.format("acme"))
        described = admin.get(path)
    assert created["key_id"] in caplog.text  # control: the server's log lines are captured
    assert "wrong, superseded or revoked" in caplog.text
    home = api.vault.home
    stored = (home / API_KEY_FILE).read_text()
    macs = re.findall(r'"mac": "([0-9a-f]{64})"', stored)
    assert macs  # control: the hashes are where we look
    for issued in (key, rotated):
        secret_part = issued.rsplit("_", 1)[1]
        assert secret_part not in caplog.text
        for response in (listed, described):
            assert secret_part not in response.text
            assert all(mac not in response.text for mac in macs)
        for path in home.rglob("*"):
            if path.is_file():
                assert secret_part.encode() not in path.read_bytes(), path
    assert set(described.json()) == LISTED
    assert all(set(k) == LISTED for k in listed.json()["api_keys"])


def test_expired_key_is_refused(api) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    store = ApiKeyStore(api.vault.home, api.vault.provider, clock=lambda: past)
    old = store.create("acme", "service", "expired", lifetime=timedelta(hours=1))
    with api.client(old.secret) as client:
        _expect_401(client.get("/v1/tenants/acme/recordings/x"))
    fresh = _create(api)["api_key"]
    assert _uses(api, fresh) == 200  # control
    with api.client(api.token("tenant-admin", "acme")) as admin:
        info = admin.get(f"{URL.format('acme')}/{old.info.key_id}").json()
    assert datetime.fromisoformat(info["expires_at"]) < datetime.now(UTC)


def test_an_api_key_with_read_sensitive_gets_whole_transcripts(api) -> None:
    body = {"call_id": "key-call", "caller": "+15557654321", "text": "t", "card_last4": "9876"}
    admin, service = _create(api, role="tenant-admin"), _create(api)
    with api.client(service["api_key"]) as client:
        record = client.post("/v1/tenants/acme/transcripts", json=body).json()["id"]
        redacted = client.get(f"/v1/tenants/acme/transcripts/{record}").json()
    with api.client(admin["api_key"]) as client:
        whole = client.get(f"/v1/tenants/acme/transcripts/{record}").json()
    assert redacted["caller"] is None and redacted["card_last4"] is None
    assert (whole["caller"], whole["card_last4"]) == ("+15557654321", "9876")


# -- route-table checks over the live app ------------------------------------------------


def _actions(dependant) -> list[Action]:
    found = [getattr(dependant.call, ACTION_ATTRIBUTE, None)]
    for sub in dependant.dependencies:
        found += _actions(sub)
    return [a for a in found if a is not None]


def _routes(api) -> list[APIRoute]:
    """Every route of the registry ``create_app`` mounts, checked against the live app's
    OpenAPI description, so a route mounted outside the registry fails here."""
    declared = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    with api.client() as client:
        spec = client.get("/openapi.json").json()
    live = {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}
    listed = {(m, r.path) for r in declared if r.include_in_schema for m in r.methods}
    assert live == listed
    return declared


def test_every_route_of_the_app_is_guarded_by_one_action(api) -> None:
    routes = _routes(api)
    for route in routes:
        expected = 0 if route.path in PUBLIC_PATHS else 1
        assert len(_actions(route.dependant)) == expected, route.path
    ours = [r for r in routes if r.path.startswith("/v1/tenants/{tenant}/api-keys")]
    assert sum(len(r.methods) for r in ours) == 5
    assert all(_actions(r.dependant) == [Action.APIKEYS_MANAGE] for r in ours)


def test_a_tenant_token_is_refused_on_every_other_tenants_route(api) -> None:
    table = default_table()
    tenant_routes = [
        (method, route)
        for route in _routes(api)
        if route.path not in PUBLIC_PATHS
        and table.actions[_actions(route.dependant)[0]].scope is Scope.TENANT
        for method in sorted(route.methods)
    ]
    assert {r.path for _, r in tenant_routes} >= {"/v1/tenants/{tenant}/api-keys/{key_id}"}
    assert len(tenant_routes) >= 15
    for role in ("tenant-admin", "service"):
        with api.client(api.token(role, "acme")) as client:
            for method, route in tenant_routes:
                url = re.sub(
                    r"\{(\w+)\}", lambda m: "globex" if m[1] == "tenant" else "a" * 16, route.path
                )
                response = client.request(method, url)
                assert response.status_code == 403, (role, method, route.path, response.text)
                assert response.json()["error"]["code"] == "forbidden"


def test_openapi_describes_the_api_key_routes(api) -> None:
    with api.client() as client:
        spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/v1/tenants/{tenant}/api-keys"]) == {"get", "post"}
    assert set(paths["/v1/tenants/{tenant}/api-keys/{key_id}"]) == {"get", "delete"}
    assert set(paths["/v1/tenants/{tenant}/api-keys/{key_id}/rotate"]) == {"post"}
    issued = spec["components"]["schemas"]["ApiKeyIssued"]["properties"]["api_key"]
    assert "once" in issued["description"]
