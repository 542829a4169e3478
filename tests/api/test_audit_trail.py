"""Every data access and admin action through the API lands in the audit log: one entry
with the principal, the action, tenant, object, key and outcome; refusals as ``denied``;
caller values only as keyed HMACs; and an audit log that cannot take the entry fails the
request closed (503) without performing it."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from callvault import Vault
from callvault.api import ApiServices
from callvault.api._audit_events import EVENTS
from callvault.audit import AuditEntry

CALLER = "+15557770001"


def _log(api):  # type: ignore[no-untyped-def]
    return api.app.state.services.audit


def _new(api, before: int) -> list[AuditEntry]:
    """Entries since ``before``, without the KMS key events."""
    return [e for e in list(_log(api).entries())[before:] if not e.action.startswith("key.")]


def test_each_data_access_is_one_entry_with_who_what_and_the_subject_hmac(api) -> None:
    rec = f"audit-{secrets.token_hex(4)}"
    before = _log(api).size()
    with api.client(api.token("tenant-admin", "acme")) as client:
        put = client.put(
            f"/v1/tenants/acme/recordings/{rec}", params={"subject": CALLER}, content=b"x" * 40000
        )
        assert put.status_code == 201
        assert client.get(f"/v1/tenants/acme/recordings/{rec}").status_code == 200
        ranged = client.get(f"/v1/tenants/acme/recordings/{rec}", headers={"range": "bytes=5-9"})
        assert ranged.status_code == 206
        tid = client.post(
            "/v1/tenants/acme/transcripts", json={"call_id": rec, "caller": CALLER, "text": "hello"}
        ).json()["id"]
        assert client.get(f"/v1/tenants/acme/transcripts/{tid}").status_code == 200
        assert client.get("/v1/tenants/acme/transcripts", params={"caller": CALLER}).is_success
        aid = client.post(
            "/v1/tenants/acme/analytics",
            json={"call_id": rec, "duration_seconds": 3, "caller": CALLER},
        ).json()["id"]
        assert client.get(f"/v1/tenants/acme/analytics/{aid}").status_code == 200
        assert client.delete(f"/v1/tenants/acme/recordings/{rec}").status_code == 204
    found = _new(api, before)
    assert [(e.action, e.object_id, e.outcome) for e in found] == [
        ("recording.write", rec, "ok"),
        ("recording.read", rec, "ok"),
        ("recording.read", rec, "ok"),
        ("transcript.write", tid, "ok"),
        ("transcript.read", tid, "ok"),
        ("transcript.search", None, "ok"),
        ("analytics.write", aid, "ok"),
        ("analytics.read", aid, "ok"),
        ("recording.delete", rec, "ok"),
    ]
    blind = api.vault.keys.subject_key_id("acme", CALLER).hex()
    assert all(e.subject_hmac == blind for e in found[:-1])  # the delete names no subject
    assert all(
        e.tenant == "acme" and re.fullmatch(r"tenant-admin/acme/\S+", e.actor) for e in found
    )
    assert found[2].detail["range"] == "5-9"
    assert found[5].detail["count"] == "1"
    for entry in (found[0], found[3], found[6]):  # writes name the master key and version
        assert entry.key_id == "dev/acme/default" and entry.key_version is not None
    assert len({e.detail["request"] for e in found}) == len(found)


def test_refusals_are_logged_as_denied_but_401s_are_not(api) -> None:
    before = _log(api).size()
    with api.client(api.token("service", "acme")) as client:
        assert client.get("/v1/tenants/globex/recordings/x").status_code == 403
        assert client.delete("/v1/tenants/acme/recordings/x").status_code == 403
    with api.client() as anonymous:
        for _ in range(3):
            assert anonymous.get("/v1/tenants/acme/recordings/x").status_code == 401
    with api.client("not-a-token") as forged:
        assert forged.get("/v1/tenants/acme/recordings/x").status_code == 401
    found = _new(api, before)
    assert [(e.action, e.tenant, e.outcome) for e in found] == [
        ("recording.read", "globex", "denied"),
        ("recording.delete", "acme", "denied"),
    ]
    assert found[0].actor.startswith("service/acme/")


def test_failures_are_logged_with_their_kind_once(api) -> None:
    rec = f"dup-{secrets.token_hex(4)}"
    before = _log(api).size()
    with api.client(api.token("service", "acme")) as client:
        assert client.get("/v1/tenants/acme/recordings/never-there").status_code == 404
        assert client.post("/v1/tenants/acme/transcripts", json={"call_id": "c"}).status_code == 400
        assert client.put(f"/v1/tenants/acme/recordings/{rec}", content=b"1").status_code == 201
        assert client.put(f"/v1/tenants/acme/recordings/{rec}", content=b"2").status_code == 409
    assert [(e.action, e.outcome) for e in _new(api, before)] == [
        ("recording.read", "NotFound"),
        ("transcript.write", "InvalidRequest"),
        ("recording.write", "ok"),
        ("recording.write", "Conflict"),
    ]


def test_admin_actions_are_logged(api) -> None:
    tenant = f"t{secrets.token_hex(4)}"
    before = _log(api).size()
    with api.client(api.token("platform-admin")) as admin:
        assert admin.post("/v1/tenants", json={"id": tenant}).status_code == 201
        assert admin.post(f"/v1/tenants/{tenant}/keys/rotate").status_code == 200
        assert admin.get("/v1/tenants").status_code == 200  # a listing: not logged
    with api.client(api.token("tenant-admin", tenant)) as owner:
        issued = owner.post(
            f"/v1/tenants/{tenant}/api-keys", json={"role": "service", "label": "agent"}
        ).json()
        key_id = issued["key_id"]
        assert owner.post(f"/v1/tenants/{tenant}/api-keys/{key_id}/rotate").is_success
        assert owner.delete(f"/v1/tenants/{tenant}/api-keys/{key_id}").is_success
    found = _new(api, before)
    assert [(e.action, e.tenant, e.outcome) for e in found] == [
        ("tenant.create", tenant, "ok"),
        ("masterkey.rotate", tenant, "ok"),
        ("apikey.issue", tenant, "ok"),
        ("apikey.rotate", tenant, "ok"),
        ("apikey.revoke", tenant, "ok"),
    ]
    assert found[1].key_id == f"dev/{tenant}/default"
    assert found[2].detail["role"] == "service" and found[3].object_id == key_id
    assert found[0].actor.startswith("platform-admin/platform/")
    # the KMS's own key.rotate follows the operator's masterkey.rotate
    rotate_at = found[1].seq
    after = [e.action for e in _log(api).entries() if e.seq is not None and e.seq > rotate_at]
    assert "key.rotate" in after[:3]


def test_the_audit_files_hold_no_caller_number_or_transcript_text(api) -> None:
    caller = "+1555" + str(secrets.randbelow(10**7)).zfill(7)
    text = f"my secret word is {secrets.token_hex(8)}"
    with api.client(api.token("tenant-admin", "acme")) as client:
        tid = client.post(
            "/v1/tenants/acme/transcripts",
            json={"call_id": "leak-check", "caller": caller, "text": text},
        ).json()["id"]
        assert client.get(f"/v1/tenants/acme/transcripts/{tid}").json()["text"] == text
        client.get("/v1/tenants/acme/transcripts", params={"caller": caller})
        client.put(
            "/v1/tenants/acme/recordings/leak-rec",
            params={"subject": caller},
            content=text.encode(),
        )
    entries = [e for e in _log(api).entries() if e.object_id == tid]
    assert entries  # control: the accesses were logged
    audit_dir: Path = api.vault.home / "audit"
    blob = b"".join(p.read_bytes() for p in audit_dir.rglob("*") if p.is_file())
    for needle in (caller, caller[1:], text, "secret word"):
        assert needle.encode() not in blob
    opened = "\n".join(str(e.as_json()) for e in _log(api).entries())
    assert caller not in opened and text not in opened  # not even inside the encryption


def test_every_event_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "audit.md").read_text()
    for event in EVENTS:
        assert f"`{event.name}`" in doc, event.name


# -- fail closed ---------------------------------------------------------------------------


@pytest.fixture
def own_server(vault: Vault, start_server):  # type: ignore[no-untyped-def]
    return start_server(vault, ApiServices.embedded(vault))


def _truncate(home: Path) -> None:
    log = home / "audit" / "log.cvl"
    data = log.read_bytes()
    log.write_bytes(data[: len(data) - 10])  # shorter than its index: AuditStore refuses


def test_an_audit_log_that_refuses_entries_fails_requests_closed(own_server) -> None:
    server = own_server
    with server.client(server.token("tenant-admin", "acme")) as client:
        assert client.put("/v1/tenants/acme/recordings/before", content=b"x").status_code == 201
        _truncate(server.vault.home)
        put = client.put("/v1/tenants/acme/recordings/after", content=b"y")
        assert put.status_code == 503 and put.json()["error"]["code"] == "audit_unavailable"
        assert client.get("/v1/tenants/acme/recordings/before").status_code == 503
        assert client.delete("/v1/tenants/acme/recordings/before").status_code == 503
        post = client.post(
            "/v1/tenants/acme/transcripts", json={"call_id": "c", "caller": CALLER, "text": "t"}
        )
        assert post.status_code == 503
    objects = server.vault.home / "objects"
    names = {p.name for p in objects.rglob("*") if p.is_file()}
    assert not any(n.startswith("after") for n in names)  # nothing stored
    assert any(n.startswith("before") for n in names)  # nothing deleted
