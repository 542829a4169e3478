"""Bearer authentication (401) and role/tenant authorization (403) on the live server."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from callvault.api import PUBLIC_PATHS, routes
from callvault.api._auth import ACTION_ATTRIBUTE
from callvault.auth import ApiKeyStore, AuthenticationError, SigningKeyRing, TokenService

UNAUTHENTICATED = AuthenticationError.MESSAGE


def _expect_401(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": {"code": "unauthenticated", "message": UNAUTHENTICATED}}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_missing_and_malformed_credentials(api) -> None:
    with api.client() as client:
        _expect_401(client.get("/v1/tenants"))
        _expect_401(client.get("/v1/tenants", headers={"authorization": "Basic YTpi"}))
        _expect_401(client.get("/v1/tenants", headers={"authorization": "Bearer"}))
        _expect_401(client.get("/v1/tenants", headers={"authorization": "Bearer x.y.z"}))
        _expect_401(client.get("/v1/tenants", headers={"authorization": "Bearer cvk_nope"}))


def test_forged_tokens(api, tmp_path: Path, vault_factory) -> None:
    other = vault_factory(tmp_path / "other")  # same environment, its own signing key
    foreign = TokenService(SigningKeyRing(other.home, other.provider)).mint("platform-admin")
    with api.client(foreign) as client:
        _expect_401(client.get("/v1/tenants"))
    genuine = api.token("service", "acme")
    header, payload, signature = genuine.split(".")
    claims = base64.urlsafe_b64decode(payload + "==").replace(b'"service"', b'"tenant-admin"')
    lifted = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for forged in (f"{header}.{lifted}.{signature}", f"{header}.{payload}.{flipped}",
                   f"{header}.{payload}."):
        with api.client(forged) as client:
            _expect_401(client.get("/v1/tenants/acme/recordings/x"))


def test_expired_token(api) -> None:
    ring = SigningKeyRing(api.vault.home, api.vault.provider,
                          clock=lambda: datetime.now(UTC) - timedelta(hours=2))
    expired = TokenService(ring).mint("platform-admin", ttl=600)
    with api.client(expired) as client:
        _expect_401(client.get("/v1/tenants"))
    with api.client(api.token("platform-admin")) as client:  # control: a fresh one works
        assert client.get("/v1/tenants").status_code == 200


def test_cross_tenant_is_forbidden(api) -> None:
    acme = api.token("tenant-admin", "acme")
    with api.client(acme) as client:
        assert client.put("/v1/tenants/acme/recordings/own", content=b"hi").status_code == 201
        for method, path in [
            ("GET", "/v1/tenants/globex"),
            ("GET", "/v1/tenants/globex/recordings/own"),
            ("PUT", "/v1/tenants/globex/recordings/own"),
            ("DELETE", "/v1/tenants/globex/recordings/own"),
            ("GET", "/v1/tenants/does-not-exist/recordings/own"),  # 403 before existence
        ]:
            response = client.request(method, path, content=b"x" if method == "PUT" else None)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["code"] == "forbidden"
        assert client.get("/v1/tenants/acme").status_code == 200  # control


@pytest.mark.parametrize("role", ["platform-admin", "auditor"])
def test_platform_roles_never_read_plaintext(api, role: str) -> None:
    with api.client(api.token("service", "acme")) as client:
        assert client.put(f"/v1/tenants/acme/recordings/secret-{role}",
                          content=b"tenant plaintext").status_code == 201
    with api.client(api.token(role)) as client:
        response = client.get(f"/v1/tenants/acme/recordings/secret-{role}")
        assert response.status_code == 403
        assert b"tenant plaintext" not in response.content
        assert client.put("/v1/tenants/acme/recordings/by-admin",
                          content=b"x").status_code == 403


def test_service_role_may_not_delete(api) -> None:
    with api.client(api.token("service", "acme")) as client:
        client.put("/v1/tenants/acme/recordings/keep-me", content=b"x")
        assert client.delete("/v1/tenants/acme/recordings/keep-me").status_code == 403
        assert client.get("/v1/tenants/acme/recordings/keep-me").status_code == 200


def test_api_key_authenticates(api) -> None:
    store = ApiKeyStore(api.vault.home, api.vault.provider)
    key = store.create("acme", "service", "voice agent")
    with api.client(key.secret) as client:
        assert client.put("/v1/tenants/acme/recordings/via-key", content=b"k").status_code == 201
        assert client.get("/v1/tenants/acme/recordings/via-key").content == b"k"
        assert client.get("/v1/tenants/globex/recordings/via-key").status_code == 403
    store.revoke("acme", key.info.key_id)
    with api.client(key.secret) as client:
        _expect_401(client.get("/v1/tenants/acme/recordings/via-key"))


def test_every_route_is_guarded(api) -> None:
    def actions(dependant) -> list:
        found = [getattr(dependant.call, ACTION_ATTRIBUTE, None)]
        for sub in dependant.dependencies:
            found += actions(sub)
        return [a for a in found if a is not None]

    modules = (routes.tenants, routes.recordings, routes.transcripts, routes.analytics,
               routes.wellknown, routes.keys, routes.dashboard)
    routers = [m.router for m in modules]
    declared = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    assert len(declared) >= 17
    for route in declared:
        expected = 0 if route.path in PUBLIC_PATHS else 1
        assert len(actions(route.dependant)) == expected, route.path

    # Black box: every documented operation but the public ones refuses an anonymous call.
    with api.client() as client:
        spec = client.get("/openapi.json").json()
        operations = [(m, p) for p, ops in spec["paths"].items() for m in ops]
        assert len(operations) >= 14
        for method, path in operations:
            url = path.replace("{tenant}", "acme").replace("{recording_id}", "r")
            response = client.request(method.upper(), url)
            if path in PUBLIC_PATHS:
                assert response.status_code == 200
            else:
                _expect_401(response)
