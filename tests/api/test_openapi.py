"""``/openapi.json`` describes the routes; ``/.well-known/jwks.json`` verifies our tokens."""

from __future__ import annotations

import jwt


def test_openapi_lists_the_routes(api) -> None:
    with api.client() as client:
        spec = client.get("/openapi.json").json()
        assert client.get("/docs").status_code == 404  # no CDN-backed docs pages
    paths = spec["paths"]
    assert set(paths["/v1/tenants"]) == {"get", "post"}
    assert set(paths["/v1/tenants/{tenant}"]) == {"get"}
    assert set(paths["/v1/tenants/{tenant}/recordings/{recording_id}"]) == {"put", "get",
                                                                             "delete"}
    assert "/.well-known/jwks.json" in paths
    put = paths["/v1/tenants/{tenant}/recordings/{recording_id}"]["put"]
    assert "application/octet-stream" in put["requestBody"]["content"]
    assert {"413", "409"} <= set(put["responses"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_jwks_verifies_a_minted_token(api) -> None:
    token = api.token("platform-admin")
    with api.client() as client:
        response = client.get("/.well-known/jwks.json")
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = jwt.PyJWKSet.from_dict(response.json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"],
                        audience=api.tokens.settings.audience)
    assert claims["role"] == "platform-admin"
    assert all("d" not in k for k in response.json()["keys"])  # public halves only
