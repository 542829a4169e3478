"""Export from a real, populated home; verify it; check what the bundle holds and what it
must never hold."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from callvault.audit import AuditLog, NoteVerifier, inclusion_proof, verify_inclusion
from callvault.posture.evidence import export_evidence, verify_evidence
from callvault.posture.evidence._audit import ProofTree
from callvault.posture.evidence._manifest import statement

from .conftest import DocumentFactory, World


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _export(world: World, tmp_path: Path, document: DocumentFactory, **kw: Any) -> Path:
    out = tmp_path / "bundle.zip"
    export_evidence(world.vault, out, document=document, **kw)
    return out


def test_export_verifies_against_the_homes_key(
    world: World, tmp_path: Path, document: DocumentFactory
) -> None:
    out = _export(world, tmp_path, document)
    trusted = world.log().verifier()
    result = verify_evidence(out, trusted, "home")
    assert result.ok, result.failures
    assert result.trust == "home"
    assert result.signer == str(trusted)
    members = _members(out)
    manifest = json.loads(members["manifest.json"])
    assert result.files == len(manifest["files"]) == len(members) - 3
    assert result.proofs > 0
    # without a trusted key: still intact, but the result says only the embedded key was used
    embedded = verify_evidence(out)
    assert embedded.ok and embedded.trust == "embedded"


def test_bundle_contents(world: World, tmp_path: Path, document: DocumentFactory) -> None:
    members = _members(_export(world, tmp_path, document))
    manifest = json.loads(members["manifest.json"])
    paths = {f["path"] for f in manifest["files"]}
    expected = {
        "audit/checkpoint.note",
        "audit/verification.json",
        "audit/key-access.json",
        "keys/rotation-log.json",
        "keys/inventory.json",
        "keys/rotation-status.json",
        "certificates/internal-ca.json",
        "egress/report.json",
        "scans/history-index.json",
        "lint/history-index.json",
        "posture/posture.md",
        "posture/posture.pdf",
    }
    assert expected <= paths
    assert manifest["format"] == "callvault.evidence/v1"
    assert manifest["environment"] == "dev"
    assert manifest["trust_domain"] == "example.org"
    assert manifest["signer"]["verifier_key"] == str(world.log().verifier())
    for entry in manifest["files"]:
        data = members[entry["path"]]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        assert entry["description"]
    # latest scan per target (two targets) and the one lint report
    assert len([p for p in paths if p.startswith("scans/latest/")]) == 2
    assert len([p for p in paths if p.startswith("lint/latest/")]) == 1
    index = json.loads(members["scans/history-index.json"])
    grades = {r["target"]: r["grades"]["callvault-modern"]["passed"] for r in index["reports"]}
    assert grades == {"127.0.0.1:8443": True, "legacy.example:443": False}
    # keys: the inventory names acme's rotated key; the rotation log has the rotation
    inventory = json.loads(members["keys/inventory.json"])
    acme = [k for k in inventory if k["key_id"] == "dev/acme/default"]
    assert acme and acme[0]["primary_version"] == 2
    rotations = json.loads(members["keys/rotation-log.json"])["entries"]
    assert any(e["action"] == "key.rotate" and e["key_id"] == "dev/acme/default" for e in rotations)
    # key access: wraps and unwraps of the seals and opens, nothing but key.* entries
    access = json.loads(members["audit/key-access.json"])["entries"]
    assert {e["action"] for e in access} >= {"key.unwrap"}
    assert all(e["action"].startswith("key.") for e in access)
    # egress: the real connection, TLS 1.3
    egress = json.loads(members["egress/report.json"])["providers"]["stt"]
    assert egress[-1]["outcome"] == "ok" and egress[-1]["protocol"] == "TLSv1.3"
    assert json.loads(members["audit/verification.json"])["ok"] is True
    # the signature member is the statement over the manifest's bytes
    text = NoteVerifier.from_string(members["audit-key.vkey"].decode()).open(
        members["manifest.sig"].decode()
    )
    assert text == statement(members["manifest.json"])


def test_no_secret_reaches_the_bundle(
    world: World, tmp_path: Path, document: DocumentFactory
) -> None:
    raw = _export(world, tmp_path, document).read_bytes()
    members = _members(tmp_path / "bundle.zip")
    blob = raw + b"".join(members.values())
    assert world.secrets  # the check below must have something to find
    for name, secret in world.secrets.items():
        assert len(secret) >= 16, name
        for form in {secret, secret.hex().encode(), secret.strip(), base64.b64encode(secret)}:
            assert form not in blob, f"{name} found in the evidence bundle"
    # and the check can fail: a secret that *is* in a member is found
    assert members["keys/inventory.json"][:16] in blob


def test_key_access_window(world: World, tmp_path: Path, document: DocumentFactory) -> None:
    from datetime import UTC, datetime, timedelta

    later = datetime.now(UTC) + timedelta(days=40)
    members = _members(_export(world, tmp_path, document, now=later))
    access = json.loads(members["audit/key-access.json"])
    assert access["entries"] == []  # every key event is older than the 30-day window
    assert access["window"]["until"] == later.isoformat()
    # the rotation log is not windowed
    assert json.loads(members["keys/rotation-log.json"])["entries"]


def test_proofs_match_the_audit_logs_own(world: World) -> None:
    log: AuditLog = world.log()
    leaves = log.leaf_hashes()
    tree = ProofTree(leaves)
    root = log.root()
    for index in range(len(leaves)):
        proof = tree.proof(index)
        assert proof == inclusion_proof(index, leaves)
        assert verify_inclusion(leaves[index], index, len(leaves), proof, root)


def test_export_is_deterministic(world: World, tmp_path: Path, document: DocumentFactory) -> None:
    """Fixed zip timestamps and order: the zip is a function of its members; and two exports
    at the same instant agree on every member the audit log's growth does not touch."""
    from datetime import UTC, datetime

    from callvault.posture.evidence._zip import write_bundle

    now = datetime.now(UTC)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _export(world, tmp_path / "a", document, now=now)
    second = _export(world, tmp_path / "b", document, now=now)
    with zipfile.ZipFile(first) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.namelist() == sorted(archive.namelist())
    rebuilt = tmp_path / "rebuilt.zip"
    write_bundle(rebuilt, _members(first).items())
    assert rebuilt.read_bytes() == first.read_bytes()
    a, b = _members(first), _members(second)
    stable = [n for n in a if n.split("/")[0] in {"keys", "certificates", "egress", "scans"}]
    stable = [n for n in stable if n != "keys/rotation-log.json"]  # proofs against a new root
    assert len(stable) >= 6
    assert [n for n in stable if a[n] != b[n]] == []


def test_posture_document_missing_is_declared(world: World, tmp_path: Path) -> None:
    def broken(home: Path) -> Any:
        raise RuntimeError("renderer unavailable")

    out = tmp_path / "b.zip"
    result = export_evidence(world.vault, out, document=broken)
    assert {m["item"] for m in result.missing} >= {"posture document"}
    reason = next(m["reason"] for m in result.missing if m["item"] == "posture document")
    assert "renderer unavailable" in reason
    assert verify_evidence(out, world.log().verifier()).ok
    assert not any(n.startswith("posture/") for n in _members(out))


def test_window_must_be_positive(world: World, tmp_path: Path) -> None:
    from datetime import timedelta

    from callvault.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        export_evidence(world.vault, tmp_path / "x.zip", window=timedelta(0))
    assert not (tmp_path / "x.zip").exists()
