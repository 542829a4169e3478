"""``/v1/tenants``: create, list, read, with the error shapes of bad input."""

from __future__ import annotations

import uuid


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def test_create_list_get(api) -> None:
    name = _name()
    with api.client(api.token("platform-admin")) as client:
        created = client.post("/v1/tenants", json={"id": name,
                                                   "dedicated_classes": ["recording"]})
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"/v1/tenants/{name}"
        assert created.json()["id"] == name
        assert created.json()["dedicated_classes"] == ["recording"]
        listed = client.get("/v1/tenants").json()["tenants"]
        assert {"acme", "globex", name} <= {t["id"] for t in listed}
        assert client.get(f"/v1/tenants/{name}").json()["id"] == name
        again = client.post("/v1/tenants", json={"id": name})
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert name in {t.id for t in api.vault.tenants.list()}
    assert any(k.key_id.endswith(f"{name}/recording") for k in api.vault.list_keys(name))


def test_bad_input_is_400_and_changes_nothing(api) -> None:
    before = {t.id for t in api.vault.tenants.list()}
    with api.client(api.token("platform-admin")) as client:
        for body in ({"id": "Bad_Name"}, {"id": "ok-name", "extra": 1}, {},
                     {"id": "ok-name", "dedicated_classes": ["nope"]}):
            response = client.post("/v1/tenants", json=body)
            assert response.status_code == 400, (body, response.text)
            assert response.json()["error"]["code"] == "invalid_request"
        not_json = client.post("/v1/tenants", content=b"{", headers={"content-type":
                                                                    "application/json"})
        assert not_json.status_code == 400
        assert client.get("/v1/tenants/Bad_Name").status_code == 400
        missing = client.get("/v1/tenants/no-such-tenant")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert {t.id for t in api.vault.tenants.list()} == before


def test_tenant_roles(api) -> None:
    with api.client(api.token("tenant-admin", "acme")) as client:
        assert client.get("/v1/tenants/acme").status_code == 200
        assert client.get("/v1/tenants").status_code == 403
        assert client.post("/v1/tenants", json={"id": _name()}).status_code == 403
    with api.client(api.token("service", "acme")) as client:
        assert client.get("/v1/tenants/acme").status_code == 403  # not in its actions
    with api.client(api.token("auditor")) as client:
        assert client.get("/v1/tenants").status_code == 403
