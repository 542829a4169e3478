"""Analytics rows end to end over HTTPS: clear labels, sealed caller and notes, what the
database file holds, authorization, bad input, erasure, tampering."""

from __future__ import annotations

import secrets

import pytest

URL = "/v1/tenants/{}/analytics"


def _caller() -> str:
    return "+4420" + "".join(secrets.choice("0123456789") for _ in range(8))


def _body(**extra: object) -> dict:
    return {"call_id": f"call-{secrets.token_hex(6)}", "duration_seconds": 125.5,
            "outcome": "resolved", "sentiment": "positive", **extra}


def _post(api, tenant: str, body: dict) -> str:
    with api.client(api.token("service", tenant)) as client:
        response = client.post(URL.format(tenant), json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])



def test_round_trip_with_and_without_caller(api) -> None:
    full = _body(caller=_caller(), notes="asked about a refund for order 1182")
    bare = _body(outcome=None, sentiment=None, duration_seconds=0)
    for body in (full, bare):
        record = _post(api, "acme", body)
        with api.client(api.token("tenant-admin", "acme")) as client:
            response = client.get(f"{URL.format('acme')}/{record}")
        assert response.status_code == 200, response.text
        got = response.json()
        assert got.pop("id") == record and got.pop("created_at")
        expected = {"caller": None, "notes": None, **body}
        assert got == expected


def test_database_holds_labels_but_no_caller_or_notes(api) -> None:
    caller = _caller()
    notes = f"private-note-{secrets.token_hex(8)}"
    body = _body(caller=caller, notes=notes, outcome=f"out-{secrets.token_hex(4)}")
    _post(api, "acme", body)
    stored = api.records_bytes()
    assert body["outcome"].encode() in stored  # by design: labels stay queryable
    for secret in (caller, caller[1:], notes):
        assert secret.encode() not in stored, secret


def test_other_tenants_and_platform_roles_are_refused(api) -> None:
    record = _post(api, "acme", _body(caller=_caller()))
    for token in (api.token("service", "globex"), api.token("platform-admin"),
                  api.token("auditor")):
        with api.client(token) as client:
            for response in (client.get(f"{URL.format('acme')}/{record}"),
                             client.post(URL.format("acme"), json=_body())):
                assert response.status_code == 403, response.text
    with api.client(api.token("service", "globex")) as client:
        assert client.get(f"{URL.format('globex')}/{record}").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"outcome": "Resolved!"},
        {"sentiment": "the caller said +15551234567"},
        {"duration_seconds": -1},
        {"duration_seconds": 10**9},
        {"caller": "not a number"},
        {"notes": "x" * 100_001},
        {"extra": 1},
    ],
)
def test_bad_body_is_400(api, change: dict) -> None:
    with api.client(api.token("service", "acme")) as client:
        response = client.post(URL.format("acme"), json=_body(**change))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_unknown_id_is_404(api) -> None:
    with api.client(api.token("service", "acme")) as client:
        response = client.get(f"{URL.format('acme')}/{secrets.token_hex(16)}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_erased_caller_is_410(api) -> None:
    caller = _caller()
    record = _post(api, "acme", _body(caller=caller, notes="to be forgotten"))
    anonymous = _post(api, "acme", _body())
    api.vault.destroy_subject("acme", caller)
    with api.client(api.token("service", "acme")) as client:
        response = client.get(f"{URL.format('acme')}/{record}")
        assert response.status_code == 410 and caller not in response.text
        assert client.get(f"{URL.format('acme')}/{anonymous}").status_code == 200


def test_relabelled_row_fails_closed(api) -> None:
    record = _post(api, "acme", _body(caller=_caller()))
    api.edit_records("UPDATE analytics SET call_id = 'call-forged' WHERE id = ?", record)
    with api.client(api.token("service", "acme")) as client:
        response = client.get(f"{URL.format('acme')}/{record}")
    assert response.status_code == 500 and response.json()["error"]["code"] == "integrity_error"
