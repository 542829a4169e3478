"""Adversarial: every way of changing a bundle after export is caught, and named.

One export of a populated home per module; each test rewrites a copy of it the way an
attacker would (with the zip module directly, so names the writer refuses can be planted).
"""

from __future__ import annotations

import json
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from callvault.audit import NoteVerifier, sign_note
from callvault.errors import InvalidRequest
from callvault.posture.evidence import EvidenceVerification, export_evidence, verify_evidence
from callvault.posture.evidence._manifest import canonical_json, statement

from .conftest import FakeDocument, World

Entries = list[tuple[str, bytes]]


@pytest.fixture(scope="module")
def bundle(shared_world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "evidence.zip"
    export_evidence(shared_world.vault, out, document=lambda home: FakeDocument())
    return out


@pytest.fixture(scope="module")
def trusted(shared_world: World) -> NoteVerifier:
    return shared_world.log().verifier()


def _entries(path: Path) -> Entries:
    with zipfile.ZipFile(path) as archive:
        return [(i.filename, archive.read(i)) for i in archive.infolist()]


def _write(path: Path, entries: Entries) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def _tampered(bundle: Path, tmp_path: Path, change: Callable[[Entries], Entries]) -> Path:
    return _write(tmp_path / "tampered.zip", change(_entries(bundle)))


def _codes(result: EvidenceVerification) -> set[tuple[str, str | None]]:
    return {(f.code, f.member) for f in result.failures}


def test_untouched_bundle_verifies(bundle: Path, trusted: NoteVerifier) -> None:
    assert verify_evidence(bundle, trusted).ok
    rewritten = _write(bundle.with_name("copy.zip"), _entries(bundle))
    assert verify_evidence(rewritten, trusted).ok  # the zip's own layout is not what is signed


def test_one_byte_in_any_member(bundle: Path, trusted: NoteVerifier, tmp_path: Path) -> None:
    expected = {
        "manifest.json": "manifest-hash",
        "manifest.sig": "signature",
        "audit-key.vkey": "key-mismatch",
    }
    names = [name for name, _ in _entries(bundle)]
    assert len(names) >= 15
    for target in names:

        def flip(entries: Entries, target: str = target) -> Entries:
            out = []
            for name, data in entries:
                if name == target:
                    middle = len(data) // 2
                    data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
                out.append((name, data))
            return out

        result = verify_evidence(_tampered(bundle, tmp_path, flip), trusted)
        assert not result.ok, target
        code = expected.get(target, "hash-mismatch")
        assert (code, target) in _codes(result) or (
            target == "manifest.json" and ("bad-manifest", target) in _codes(result)
        ), (target, result.failures)


def test_member_removed(bundle: Path, trusted: NoteVerifier, tmp_path: Path) -> None:
    for target, code in (
        ("keys/inventory.json", "missing-file"),
        ("audit/key-access.json", "missing-file"),
        ("manifest.sig", "missing-signature"),
        ("manifest.json", "missing-manifest"),
    ):
        path = _tampered(bundle, tmp_path, lambda e, t=target: [x for x in e if x[0] != t])
        result = verify_evidence(path, trusted)
        assert (code, target) in _codes(result), (target, result.failures)


def test_member_added(bundle: Path, trusted: NoteVerifier, tmp_path: Path) -> None:
    for name in ("scans/latest/999-forged.json", "notes.txt"):
        path = _tampered(bundle, tmp_path, lambda e, n=name: [*e, (n, b'{"grade": "A"}')])
        assert ("extra-file", name) in _codes(verify_evidence(path, trusted))


def test_manifest_edited_to_match_a_forged_file(
    bundle: Path, trusted: NoteVerifier, tmp_path: Path
) -> None:
    """The attacker swaps a scan report for a passing one and fixes its hash in the
    manifest: the manifest is no longer the one the audit key signed."""
    import hashlib

    forged = b'{"format": "callvault.scan/v1", "grades": {"x": {"passed": true}}}\n'

    def forge(entries: Entries) -> Entries:
        files = dict(entries)
        manifest = json.loads(files["manifest.json"])
        target = next(f for f in manifest["files"] if f["path"].startswith("scans/latest/"))
        target["sha256"], target["size"] = hashlib.sha256(forged).hexdigest(), len(forged)
        files[target["path"]] = forged
        files["manifest.json"] = canonical_json(manifest)
        return list(files.items())

    result = verify_evidence(_tampered(bundle, tmp_path, forge), trusted)
    assert ("manifest-hash", "manifest.json") in _codes(result)


def _resign(entries: Entries, key: Ed25519PrivateKey, name: str) -> Entries:
    """Re-sign everything with ``key`` and embed its verifier: a complete forgery."""
    files = dict(entries)
    verifier = NoteVerifier(name, key.public_key())
    manifest = json.loads(files["manifest.json"])
    manifest["signer"]["verifier_key"] = str(verifier)
    files["manifest.json"] = canonical_json(manifest)
    files["manifest.sig"] = sign_note(statement(files["manifest.json"]), name, key).encode()
    files["audit-key.vkey"] = (str(verifier) + "\n").encode()
    return list(files.items())


def test_signature_from_another_key(bundle: Path, trusted: NoteVerifier, tmp_path: Path) -> None:
    for name in ("attacker/audit", trusted.name):  # another name, and the same name
        path = _tampered(
            bundle, tmp_path, lambda e, n=name: _resign(e, Ed25519PrivateKey.generate(), n)
        )
        result = verify_evidence(path, trusted, "home")
        assert ("signature", "manifest.sig") in _codes(result), result.failures
        # trusting only what is inside, the forgery is self-consistent: that is why the
        # result says the trust was only the embedded key
        embedded = verify_evidence(path)
        assert embedded.trust == "embedded"


@pytest.mark.parametrize(
    "name",
    [
        "../evil.json",
        "keys/../../evil.json",
        "/etc/cron.d/evil",
        "C:/evil.json",
        "keys\\evil.json",
        "keys//evil.json",
        "./evil.json",
        "evil\n.json",
    ],
)
def test_unsafe_member_names_refused(
    name: str, bundle: Path, trusted: NoteVerifier, tmp_path: Path
) -> None:
    path = _tampered(bundle, tmp_path, lambda e: [*e, (name, b"x")])
    result = verify_evidence(path, trusted)
    assert [f.code for f in result.failures] == ["container"], result.failures


def test_duplicate_names_refused(bundle: Path, trusted: NoteVerifier, tmp_path: Path) -> None:
    import warnings

    for extra in ("keys/inventory.json", "KEYS/Inventory.json"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate we plant
            path = _tampered(bundle, tmp_path, lambda e, x=extra: [*e, (x, b"[]")])
        result = verify_evidence(path, trusted)
        assert [f.code for f in result.failures] == ["container"]
        assert "duplicate" in result.failures[0].message


def test_symlink_and_directory_entries_refused(
    bundle: Path, trusted: NoteVerifier, tmp_path: Path
) -> None:
    for mode, name in ((stat.S_IFLNK | 0o777, "keys/link"), (stat.S_IFDIR | 0o755, "dir/")):
        path = tmp_path / "special.zip"
        _write(path, _entries(bundle))
        with zipfile.ZipFile(path, "a") as archive:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            archive.writestr(info, b"/etc/passwd")
        result = verify_evidence(path, trusted)
        assert [f.code for f in result.failures] == ["container"], name


def test_not_a_zip(trusted: NoteVerifier, tmp_path: Path) -> None:
    path = tmp_path / "junk.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    assert [f.code for f in verify_evidence(path, trusted).failures] == ["container"]


def test_bad_inclusion_proof_is_caught_even_when_signed(
    shared_world: World, bundle: Path, trusted: NoteVerifier, tmp_path: Path
) -> None:
    """An extract whose entries are not in the checkpointed tree fails, even re-signed
    by the real key (the proofs are checked, not just hashed)."""
    import hashlib

    log = shared_world.log()

    def corrupt(entries: Entries) -> Entries:
        files = dict(entries)
        extract = json.loads(files["audit/key-access.json"])
        extract["entries"][0]["leaf_hash"] = "00" * 32
        files["audit/key-access.json"] = canonical_json(extract)
        manifest = json.loads(files["manifest.json"])
        for f in manifest["files"]:
            if f["path"] == "audit/key-access.json":
                data = files["audit/key-access.json"]
                f["sha256"], f["size"] = hashlib.sha256(data).hexdigest(), len(data)
        files["manifest.json"] = canonical_json(manifest)
        files["manifest.sig"] = log.sign_statement(statement(files["manifest.json"])).encode()
        return list(files.items())

    result = verify_evidence(_tampered(bundle, tmp_path, corrupt), trusted)
    assert ("audit-proof", "audit/key-access.json") in _codes(result), result.failures


def test_statement_signing_refuses_a_checkpoint_shape(shared_world: World) -> None:
    log = shared_world.log()
    with pytest.raises(InvalidRequest):
        log.sign_statement(f"{log.origin}\n5\n{'A' * 43}=\n")
    note = log.sign_statement("callvault.evidence/v1\nmanifest sha256:" + "0" * 64 + "\n")
    assert log.verifier().open(note).startswith("callvault.evidence/v1\n")
