"""Transcripts end to end over HTTPS: sealed round trips, blind-index search, what the
database file holds (no caller, no text), authorization, redaction of the sensitive fields
without ``transcripts:read-sensitive``, bad input, erasure, tampering."""

from __future__ import annotations

import secrets

import pytest

from callvault.api._transcripts import SENSITIVE_FIELDS

URL = "/v1/tenants/{}/transcripts"


def _caller() -> str:
    return "+1555" + "".join(secrets.choice("0123456789") for _ in range(7))


def _body(caller: str, text: str = "I would like to check my claim", **extra: object) -> dict:
    return {"call_id": f"call-{secrets.token_hex(6)}", "caller": caller, "text": text, **extra}


def _post(api, tenant: str, body: dict) -> str:
    with api.client(api.token("service", tenant)) as client:
        response = client.post(URL.format(tenant), json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])



FULL = {
    "segments": [
        {"start": 0.0, "end": 2.5, "speaker": "agent", "text": "Hello, how can I help?"},
        {"start": 2.5, "end": 6.0, "speaker": "caller", "text": "My member number is M-99"},
    ],
    "member_number": "MBR-8812-3345",
    "insurance_number": "INS.77-42",
    "card_last4": "4242",
}


def test_round_trip(api) -> None:
    body = _body(_caller(), "the whole conversation", **FULL)
    record = _post(api, "acme", body)
    with api.client(api.token("tenant-admin", "acme")) as client:
        response = client.get(f"{URL.format('acme')}/{record}")
    assert response.status_code == 200, response.text
    got = response.json()
    assert response.headers["cache-control"] == "no-store"
    assert got.pop("id") == record and got.pop("created_at")
    assert got.pop("redacted_fields") == []
    assert got == body


def test_minimal_round_trip(api) -> None:
    body = _body(_caller(), "")
    record = _post(api, "acme", body)
    with api.client(api.token("tenant-admin", "acme")) as client:
        got = client.get(f"{URL.format('acme')}/{record}").json()
    assert (got["caller"], got["text"], got["segments"]) == (body["caller"], "", [])
    assert got["member_number"] is got["insurance_number"] is got["card_last4"] is None


def test_search_by_caller_is_exact_and_tenant_scoped(api) -> None:
    alice, bob = _caller(), _caller()
    mine = {_post(api, "acme", _body(alice, f"call {i}")) for i in range(2)}
    _post(api, "acme", _body(bob, "bob's call"))
    theirs = _post(api, "globex", _body(alice, "same number, other tenant"))
    with api.client(api.token("tenant-admin", "acme")) as client:
        found = client.get(URL.format("acme"), params={"caller": alice}).json()["transcripts"]
        assert {t["id"] for t in found} == mine
        assert all(t["caller"] == alice for t in found)
    with api.client(api.token("service", "acme")) as client:  # may search, sees it redacted
        found = client.get(URL.format("acme"), params={"caller": alice}).json()["transcripts"]
        assert {t["id"] for t in found} == mine
        assert all(t["caller"] is None for t in found)
        nobody = client.get(URL.format("acme"), params={"caller": _caller()})
        assert nobody.status_code == 200 and nobody.json() == {"transcripts": []}
    with api.client(api.token("service", "globex")) as client:
        found = client.get(URL.format("globex"), params={"caller": alice}).json()["transcripts"]
        assert [t["id"] for t in found] == [theirs]


def _unique_full(caller: str) -> dict:
    """A body whose every sensitive value occurs nowhere else (not in ids or dates)."""
    card = "".join(secrets.choice("0123456789") for _ in range(4))
    return _body(
        caller,
        "please check my claim",
        member_number=f"MBR-{secrets.token_hex(8)}",
        insurance_number=f"INS.{secrets.token_hex(8)}",
        card_last4=card,
        segments=[{"start": 0.0, "end": 1.0, "speaker": "caller", "text": "hello"}],
    )


def _without(text: str, *known: str) -> str:
    for value in known:  # ids and dates are random/decimal: a card's 4 digits may hide there
        text = text.replace(value, "")
    return text


def _assert_redacted(got: dict, raw: str, body: dict) -> None:
    assert got["redacted_fields"] == list(SENSITIVE_FIELDS)
    assert all(got[name] is None for name in SENSITIVE_FIELDS)
    assert (got["call_id"], got["text"]) == (body["call_id"], body["text"])
    assert got["segments"] == body["segments"]
    rest = _without(raw, got["id"], got["call_id"], got["created_at"])
    caller = body["caller"]
    for value in (caller, caller[1:], caller[2:], *(body[n] for n in SENSITIVE_FIELDS[1:])):
        assert value not in rest, value


@pytest.mark.parametrize("search", [False, True])
def test_without_read_sensitive_the_sensitive_fields_are_redacted(api, search: bool) -> None:
    body = _unique_full(_caller())
    record = _post(api, "acme", body)
    for role, redacted in (("service", True), ("tenant-admin", False)):
        with api.client(api.token(role, "acme")) as client:
            if search:
                response = client.get(URL.format("acme"), params={"caller": body["caller"]})
                assert response.status_code == 200, response.text
                [got] = response.json()["transcripts"]
            else:
                response = client.get(f"{URL.format('acme')}/{record}")
                assert response.status_code == 200, response.text
                got = response.json()
        assert got["id"] == record
        if redacted:
            _assert_redacted(got, response.text, body)
        else:  # control: the same record, to a role holding the permission, is whole
            assert got["redacted_fields"] == []
            assert {n: got[n] for n in SENSITIVE_FIELDS} == {n: body[n] for n in SENSITIVE_FIELDS}
            assert body["card_last4"] in response.text


def test_redaction_hides_which_sensitive_fields_a_record_has(api) -> None:
    bare, full = _body(_caller()), _unique_full(_caller())
    answers = []
    with api.client(api.token("service", "acme")) as client:
        for body in (bare, full):
            got = client.get(f"{URL.format('acme')}/{_post(api, 'acme', body)}").json()
            answers.append({k: got[k] for k in (*SENSITIVE_FIELDS, "redacted_fields")})
    assert answers[0] == answers[1]


def test_openapi_documents_the_redaction(api) -> None:
    with api.client() as client:
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
    view = schemas["TranscriptView"]["properties"]
    assert "transcripts:read-sensitive" in view["redacted_fields"]["description"]
    assert "redacted" in view["caller"]["description"]


def test_database_holds_no_caller_or_text_in_clear(api) -> None:
    caller = _caller()
    text = f"secret-transcript-{secrets.token_hex(8)}"
    body = _body(caller, text, **{**FULL, "member_number": f"MBR-{secrets.token_hex(6)}"})
    _post(api, "acme", body)
    stored = api.records_bytes()
    assert body["call_id"].encode() in stored  # control: the clear column is there
    for secret in (
        caller,
        caller[1:],
        text,
        body["member_number"],
        "INS.77-42",
        "My member number is M-99",
    ):
        assert secret.encode() not in stored, secret
        assert secret.encode("utf-16-le") not in stored, secret


def test_other_tenants_and_platform_roles_are_refused(api) -> None:
    record = _post(api, "acme", _body(_caller()))
    for token in (
        api.token("service", "globex"),
        api.token("tenant-admin", "globex"),
        api.token("platform-admin"),
        api.token("auditor"),
    ):
        with api.client(token) as client:
            for response in (
                client.get(f"{URL.format('acme')}/{record}"),
                client.get(URL.format("acme"), params={"caller": "+15551234567"}),
                client.post(URL.format("acme"), json=_body(_caller())),
            ):
                assert response.status_code == 403, response.text
                assert response.json()["error"]["code"] == "forbidden"
    # Another tenant's id under one's own tenant is simply not there.
    with api.client(api.token("service", "globex")) as client:
        assert client.get(f"{URL.format('globex')}/{record}").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"text": None},
        {"caller": "555-123-4567"},
        {"caller": "+1 555 123 4567"},
        {"caller": "anonymous"},
        {"caller": "sip:alice@Example.COM"},  # one spelling: hosts in lower case
        {"caller": "sip:alice@example.com;transport=tls"},
        {"caller": "tel:+15551234567"},
        {"caller": "anon:"},
        {"card_last4": "4111111111111111"},
        {"member_number": "x" * 65},
        {"call_id": "bad id with spaces"},
        {"unexpected": "field"},
        {"segments": [{"start": 5, "end": 1, "speaker": "a", "text": "backwards"}]},
        {"segments": [{"start": 0, "end": 1, "speaker": "a"}]},
    ],
)
def test_bad_body_is_400_and_stores_nothing(api, change: dict) -> None:
    body = {k: v for k, v in {**_body(_caller()), **change}.items() if v is not None}
    before = api.records_bytes().count(b"call-")
    with api.client(api.token("service", "acme")) as client:
        response = client.post(URL.format("acme"), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert api.records_bytes().count(b"call-") == before


@pytest.mark.parametrize(
    "caller", ["sip:alice.smith@voip.example.com", "sips:+15551234567@carrier.example", "anon:"]
)
def test_sip_and_anonymous_callers_are_subjects_too(api, caller: str) -> None:
    """Callers without an E.164 number: a SIP address of record, or a per-call pseudonym
    for a withheld number, each searchable and erasable on its own."""
    if caller == "anon:":
        caller += secrets.token_hex(6)
    first, second = _post(api, "acme", _body(caller)), _post(api, "acme", _body(caller))
    other = _post(api, "acme", _body(f"anon:{secrets.token_hex(6)}"))
    with api.client(api.token("tenant-admin", "acme")) as client:
        found = client.get(URL.format("acme"), params={"caller": caller}).json()
        assert sorted(t["id"] for t in found["transcripts"]) == sorted([first, second])
        api.vault.destroy_subject("acme", caller)
        assert client.get(f"{URL.format('acme')}/{first}").status_code == 410
        assert client.get(f"{URL.format('acme')}/{other}").status_code == 200
    assert caller.encode() not in api.records_bytes()


def test_bad_queries(api) -> None:
    with api.client(api.token("service", "acme")) as client:
        assert client.post(URL.format("acme"), content=b"{not json").status_code == 400
        assert client.get(URL.format("acme")).status_code == 400
        assert client.get(URL.format("acme"), params={"caller": "alice"}).status_code == 400
        unknown = client.get(f"{URL.format('acme')}/{secrets.token_hex(16)}")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        assert client.get(f"{URL.format('acme')}/bad%20id").status_code == 400


def test_erased_caller_is_410(api) -> None:
    erased, kept = _caller(), _caller()
    gone = _post(api, "acme", _body(erased, **FULL))
    still = _post(api, "acme", _body(kept))
    api.vault.destroy_subject("acme", erased)
    with api.client(api.token("tenant-admin", "acme")) as client:
        response = client.get(f"{URL.format('acme')}/{gone}")
        assert response.status_code == 410 and response.json()["error"]["code"] == "key_destroyed"
        assert erased not in response.text
        search = client.get(URL.format("acme"), params={"caller": erased})
        assert search.status_code == 410
        assert client.get(f"{URL.format('acme')}/{still}").status_code == 200


def test_tampered_rows_fail_closed(api) -> None:
    caller = _caller()
    first, second = _post(api, "acme", _body(caller)), _post(api, "acme", _body(caller))
    with api.client(api.token("service", "acme")) as client:
        api.edit_records("UPDATE transcripts SET call_id = 'call-forged' WHERE id = ?", first)
        relabelled = client.get(f"{URL.format('acme')}/{first}")
        assert relabelled.status_code == 500
        assert relabelled.json()["error"]["code"] == "integrity_error"
        api.edit_records("UPDATE transcripts SET sealed = (SELECT sealed FROM transcripts WHERE "
            "id = ?) WHERE id = ?",
            first,
            second,
        )
        assert client.get(f"{URL.format('acme')}/{second}").status_code == 500
        other = _caller()
        moved = _post(api, "acme", _body(other))
        api.edit_records("UPDATE transcripts SET caller_index = (SELECT caller_index FROM "
            "transcripts WHERE id = ?) WHERE id = ?",
            first,
            moved,
        )
        # Planted under another caller's index, it must not open as that caller's record.
        assert client.get(f"{URL.format('acme')}/{moved}").status_code == 500
        assert client.get(URL.format("acme"), params={"caller": other}).json() == {
            "transcripts": []
        }


def test_oversized_json_bodies_are_refused_before_sealing(api) -> None:
    big = _body(_caller(), text="x" * (1024**2 + 10))
    with api.client(api.token("service", "acme")) as client:
        declared = client.post(URL.format("acme"), json=big)
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "payload_too_large"
        assert "strict-transport-security" in declared.headers

        def chunks():  # no Content-Length: counted as it arrives
            yield b'{"call_id": "c", "caller": "+15550000000", "text": "'
            for _ in range(40):
                yield b"y" * 65536
            yield b'"}'

        streamed = client.post(
            URL.format("acme"), content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"]["code"] == "payload_too_large"
        listed = client.get(URL.format("acme"), params={"caller": "+15550000000"})
        assert listed.status_code == 200 and listed.json() == {"transcripts": []}  # nothing stored
