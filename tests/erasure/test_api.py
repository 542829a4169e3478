"""The erasure routes over TLS, on SQLite and PostgreSQL records: create, list, cancel,
the tenant boundary, and a due subject erasure that the API then answers 404 for."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from callvault.erasure import Erasures

from .conftest import Server


def _caller() -> str:
    return f"anon:{uuid.uuid4().hex}"  # the session's server is shared: fresh subjects


def _base(tenant: str = "acme") -> str:
    return f"/v1/tenants/{tenant}/erasures"


def test_create_list_cancel(api: Server) -> None:
    token = api.token("tenant-admin", "acme")
    with api.client(token) as client:
        for body in ({"subject": _caller()}, {"all": True}):
            made = client.post(_base(), json={**body, "grace_days": 7})
            assert made.status_code == 201, made.text
            created = made.json()
            assert made.headers["location"] == f"{_base()}/{created['id']}"
            assert created["state"] == "scheduled" and created["grace_days"] == 7
            if "subject" in body:
                assert body["subject"] not in made.text
            listed = client.get(_base()).json()["erasures"]
            assert created["id"] in [e["id"] for e in listed]
            gone = client.delete(f"{_base()}/{created['id']}")
            assert gone.status_code == 200 and gone.json()["state"] == "cancelled"
            again = client.delete(f"{_base()}/{created['id']}")
            assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"subject": "+1 555 0100"},
        {"subject": "+15550100", "all": True},
        {"all": True, "grace_days": 31},
        {"all": True, "grace_days": 3},
        {"record": "no-such-recording"},
        {"all": True, "extra": 1},
    ],
)
def test_bad_requests_change_nothing(api: Server, body: dict[str, Any]) -> None:
    with api.client(api.token("tenant-admin", "acme")) as client:
        before = client.get(_base()).json()
        answer = client.post(_base(), json=body)
        assert answer.status_code in (400, 422), answer.text
        assert answer.json()["error"]["code"] in ("invalid_request", "validation_error")
        assert client.get(_base()).json() == before


def test_tenant_boundary(api: Server) -> None:
    with api.client(api.token("tenant-admin", "acme")) as acme:
        created = acme.post(_base(), json={"subject": _caller()}).json()
    with api.client(api.token("tenant-admin", "globex")) as globex:
        assert globex.get(_base("acme")).status_code == 403
        assert globex.post(_base("acme"), json={"all": True}).status_code == 403
        assert globex.delete(f"{_base('acme')}/{created['id']}").status_code == 403
        # Through its own path, another tenant's id is simply not found.
        assert globex.delete(f"{_base('globex')}/{created['id']}").status_code == 404
        assert created["id"] not in str(globex.get(_base("globex")).json())
    with api.client(api.token("tenant-admin", "acme")) as acme:
        assert acme.delete(f"{_base()}/{created['id']}").json()["state"] == "cancelled"


def test_due_subject_erasure_over_the_api(api: Server) -> None:
    caller = _caller()
    with api.client(api.token("tenant-admin", "acme")) as client:
        put = client.put(
            "/v1/tenants/acme/recordings/rec-erase-" + caller[5:15],
            params={"subject": caller},
            content=b"x" * 1000,
        )
        assert put.status_code in (200, 201), put.text
        transcript = client.post(
            "/v1/tenants/acme/transcripts",
            json={"call_id": "call-erase", "caller": caller, "text": "hello"},
        )
        assert transcript.status_code == 201, transcript.text
        made = client.post(_base(), json={"subject": caller, "grace_days": 0})
        assert made.status_code == 201
        services = api.app.state.services
        done = Erasures(services.vault, services.objects, services.records).run_due()
        assert made.json()["id"] in [r.id for r in done]
        listed = {e["id"]: e for e in client.get(_base()).json()["erasures"]}
        assert listed[made.json()["id"]]["state"] == "done"
        assert listed[made.json()["id"]]["has_receipt"] is True
        rec = client.get(put.request.url.path)
        assert rec.status_code == 404
        got = client.get(f"/v1/tenants/acme/transcripts/{transcript.json()['id']}")
        assert got.status_code == 404
