"""``/v1/audit``: a client checks the log with the public key and proofs alone (the public
functions ``verify_inclusion``, ``verify_consistency`` and ``NoteVerifier``), pages entries,
and gets 400 for bad parameters and 403 with a tenant credential."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from callvault.audit import NoteVerifier, parse_checkpoint, verify_consistency, verify_inclusion

ROUTES = (
    "/v1/audit/entries",
    "/v1/audit/checkpoint",
    "/v1/audit/proofs/inclusion?index=0",
    "/v1/audit/proofs/consistency?old=0&new=1",
    "/v1/audit/public-key",
)


def _b(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def _checkpoint(client, verifier: NoteVerifier):  # type: ignore[no-untyped-def]
    response = client.get("/v1/audit/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse_checkpoint(verifier.open(response.text))


def test_a_client_verifies_inclusion_and_consistency_from_the_api_alone(api) -> None:
    with (
        api.client(api.token("auditor")) as auditor,
        api.client(api.token("service", "acme")) as service,
    ):
        service.put("/v1/tenants/acme/recordings/proof-1", content=b"p")
        verifier = NoteVerifier.from_string(auditor.get("/v1/audit/public-key").text)
        first = _checkpoint(auditor, verifier)
        assert _checkpoint(auditor, verifier) == first  # no growth: the same checkpoint
        service.put("/v1/tenants/acme/recordings/proof-2", content=b"q")
        second = _checkpoint(auditor, verifier)
        assert second.size > first.size

        proof = auditor.get(
            "/v1/audit/proofs/consistency", params={"old": first.size, "new": second.size}
        ).json()
        path = _b(proof["consistency"])
        assert verify_consistency(first.size, second.size, first.root, second.root, path)
        assert not verify_consistency(first.size, second.size, second.root, second.root, path)

        page = auditor.get(
            "/v1/audit/entries", params={"limit": 1000, "from_seq": first.size}
        ).json()["entries"]
        mine = [e for e in page if (e["object_id"], e["action"]) == ("proof-2", "recording.write")]
        assert mine and mine[0]["seq"] < second.size
        index = mine[0]["seq"]
        leaf = base64.b64decode(mine[0]["leaf_hash"])
        found = auditor.get(
            "/v1/audit/proofs/inclusion", params={"index": index, "size": second.size}
        ).json()
        assert base64.b64decode(found["leaf_hash"]) == leaf
        path = _b(found["inclusion_path"])
        assert verify_inclusion(leaf, index, second.size, path, second.root)
        other = base64.b64decode(page[0]["leaf_hash"])
        assert other != leaf
        assert not verify_inclusion(other, index, second.size, path, second.root)


def test_entries_page_by_seq_filter_by_tenant_and_time_and_are_audited(api) -> None:
    with api.client(api.token("platform-admin")) as admin:
        first = admin.get("/v1/audit/entries", params={"limit": 2}).json()
        assert len(first["entries"]) == 2 and first["next_seq"] is not None
        following = admin.get(
            "/v1/audit/entries", params={"limit": 2, "from_seq": first["next_seq"]}
        ).json()
        assert following["entries"][0]["seq"] == first["next_seq"]
        only = admin.get("/v1/audit/entries", params={"tenant": "globex", "limit": 1000}).json()
        assert all(e["tenant"] == "globex" for e in only["entries"])
        future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        later = admin.get("/v1/audit/entries", params={"since": future}).json()
        assert later == {"entries": [], "next_seq": None}
        everything = admin.get("/v1/audit/entries", params={"limit": 1000}).json()["entries"]
    reads = [e for e in everything if e["action"] == "audit.read"]
    assert reads and reads[-1]["actor"].startswith("platform-admin/platform/")


@pytest.mark.parametrize(
    "url",
    [
        "/v1/audit/entries?limit=0",
        "/v1/audit/entries?limit=100000",
        "/v1/audit/entries?since=2026-01-01T00:00:00",  # no zone
        "/v1/audit/entries?since=yesterday",
        "/v1/audit/entries?from_seq=-1",
        "/v1/audit/proofs/inclusion",
        "/v1/audit/proofs/inclusion?index=-1",
        "/v1/audit/proofs/inclusion?index=100000000",
        "/v1/audit/proofs/inclusion?index=3&size=2",
        "/v1/audit/proofs/inclusion?index=0&size=0",
        "/v1/audit/proofs/consistency?old=2&new=1",
        "/v1/audit/proofs/consistency?old=1&new=100000000",
        "/v1/audit/proofs/consistency?old=x&new=1",
    ],
)
def test_bad_parameters_are_400(api, url: str) -> None:
    with api.client(api.token("auditor")) as auditor:
        response = auditor.get(url)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_tenant_credentials_are_refused_and_the_refusal_is_logged(api) -> None:
    log = api.app.state.services.audit
    before = log.size()
    for role in ("tenant-admin", "service"):
        with api.client(api.token(role, "acme")) as client:
            for url in ROUTES:
                assert client.get(url).status_code == 403, url
    denied = [e for e in list(log.entries())[before:] if e.outcome == "denied"]
    assert len(denied) == 2 * len(ROUTES)
    assert {e.action for e in denied} == {
        "audit.read",
        "audit.checkpoint",
        "audit.proof",
        "audit.public-key",
    }
