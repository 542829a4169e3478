"""``verify_evidence``: is this bundle exactly what the holder of the audit key signed?

Checks, each failure named (``Failure.code``) and every one reported, not only the first:
the container is a zip with safe, unique member names (``container``); the manifest and its
signature are there (``missing-manifest``, ``missing-signature``) and well formed
(``bad-manifest``); the signature verifies under the *trusted* key (``signature``) and
signs this manifest's SHA-256 (``manifest-hash``); the embedded verifier key is the one the
manifest names (``key-mismatch``); every listed file is present with its size and SHA-256
(``missing-file``, ``hash-mismatch``) and nothing else is in the zip (``extra-file``); the
audit checkpoint in the bundle verifies under the same key and every extracted audit entry
is included in it (``audit-proof``).

Trust: the key comes from the caller (the home's audit log, or a verifier key file). With
none, the key embedded in the bundle is used and the result says so (``trust ==
"embedded"``): that shows the bundle is intact and self-consistent, not who made it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callvault.audit import NoteVerifier, parse_checkpoint, verify_inclusion
from callvault.errors import CallvaultError, InvalidRequest
from callvault.posture.evidence._manifest import (
    KEY_MEMBER,
    MANIFEST_FORMAT,
    MANIFEST_MEMBER,
    RESERVED,
    SIGNATURE_MEMBER,
    parse_statement,
)
from callvault.posture.evidence._zip import check_name, read_bundle

__all__ = ["EvidenceVerification", "Failure", "verify_evidence"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_PROVED = ("audit/key-access.json", "keys/rotation-log.json")
_CHECKPOINT = "audit/checkpoint.note"


@dataclass(frozen=True, slots=True)
class Failure:
    code: str
    member: str | None
    message: str

    def to_json(self) -> dict[str, str | None]:
        return {"code": self.code, "member": self.member, "message": self.message}


@dataclass(slots=True)
class EvidenceVerification:
    trust: str
    """``home``, ``public-key`` or ``embedded`` (only the key inside the bundle)."""
    failures: list[Failure] = field(default_factory=list)
    files: int = 0
    proofs: int = 0
    signer: str | None = None
    manifest: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, code: str, member: str | None, message: str) -> None:
        self.failures.append(Failure(code, member, message))

    def to_json(self) -> dict[str, Any]:
        manifest = self.manifest or {}
        return {
            "ok": self.ok,
            "trust": self.trust,
            "trusted_signer": self.signer,
            "files_checked": self.files,
            "audit_proofs_checked": self.proofs,
            "created_at": manifest.get("created_at"),
            "environment": manifest.get("environment"),
            "missing": manifest.get("missing", []),
            "failures": [f.to_json() for f in self.failures],
        }


def verify_evidence(
    path: Path, trusted: NoteVerifier | None = None, trust: str = "public-key"
) -> EvidenceVerification:
    result = EvidenceVerification(trust if trusted is not None else "embedded")
    try:
        members = read_bundle(path)
    except InvalidRequest as exc:
        result.fail("container", None, str(exc))
        return result
    manifest_bytes = members.get(MANIFEST_MEMBER)
    note = members.get(SIGNATURE_MEMBER)
    if manifest_bytes is None:
        result.fail("missing-manifest", MANIFEST_MEMBER, "the bundle has no manifest.json")
        return result
    manifest = _manifest(manifest_bytes, result)
    verifier = trusted or _embedded(members, result)
    if verifier is not None:
        result.signer = str(verifier)
    if manifest is not None and KEY_MEMBER in members:
        named = str(manifest["signer"].get("verifier_key", ""))
        if members[KEY_MEMBER].decode(errors="replace").strip() != named:
            result.fail("key-mismatch", KEY_MEMBER, "the embedded key is not the manifest's")
    if note is None:
        result.fail("missing-signature", SIGNATURE_MEMBER, "the bundle has no manifest.sig")
    elif verifier is not None:
        _signature(verifier, note, manifest_bytes, result)
    if manifest is None:
        return result
    _files(manifest, members, result)
    if verifier is not None and not result.failures:
        _proofs(verifier, members, result)
    return result


def _manifest(data: bytes, result: EvidenceVerification) -> dict[str, Any] | None:
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"not a {MANIFEST_FORMAT} manifest")
        files = doc["files"]
        if not isinstance(doc["signer"], dict) or not isinstance(doc["missing"], list):
            raise ValueError("no signer or missing list")
        for entry in files:
            if not (
                isinstance(entry["path"], str)
                and isinstance(entry["sha256"], str)
                and _HEX64.fullmatch(entry["sha256"])
                and isinstance(entry["size"], int)
            ):
                raise ValueError("a file entry lacks path, sha256 or size")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        result.fail("bad-manifest", MANIFEST_MEMBER, f"manifest.json is malformed: {exc}")
        return None
    result.manifest = doc
    return doc


def _embedded(members: dict[str, bytes], result: EvidenceVerification) -> NoteVerifier | None:
    try:
        return NoteVerifier.from_string(members[KEY_MEMBER].decode())
    except (KeyError, UnicodeDecodeError, CallvaultError):
        result.fail("signature", KEY_MEMBER, "no usable verifier key in the bundle")
        return None


def _signature(
    verifier: NoteVerifier, note: bytes, manifest: bytes, result: EvidenceVerification
) -> None:
    try:
        digest = parse_statement(verifier.open(note.decode()))
    except (CallvaultError, UnicodeDecodeError) as exc:
        result.fail("signature", SIGNATURE_MEMBER, f"{exc} (trusted key {verifier.name})")
        return
    if digest != hashlib.sha256(manifest).hexdigest():
        result.fail("manifest-hash", MANIFEST_MEMBER, "manifest.json is not the signed one")


def _files(
    manifest: dict[str, Any], members: dict[str, bytes], result: EvidenceVerification
) -> None:
    listed: set[str] = set()
    for entry in manifest["files"]:
        name = entry["path"]
        try:
            check_name(name)
        except InvalidRequest as exc:
            result.fail("bad-manifest", name, str(exc))
            continue
        if name in listed or name in RESERVED:
            result.fail("bad-manifest", name, "listed twice or under a reserved name")
            continue
        listed.add(name)
        data = members.get(name)
        if data is None:
            result.fail("missing-file", name, f"{name} is listed but not in the bundle")
        elif len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            result.fail("hash-mismatch", name, f"{name} does not match its SHA-256 in the manifest")
        else:
            result.files += 1
    for name in sorted(set(members) - listed - RESERVED):
        result.fail("extra-file", name, f"{name} is in the bundle but not in the manifest")


def _proofs(
    verifier: NoteVerifier, members: dict[str, bytes], result: EvidenceVerification
) -> None:
    note = members.get(_CHECKPOINT)
    if note is None:
        result.fail("audit-proof", _CHECKPOINT, "no audit checkpoint in the bundle")
        return
    try:
        point = parse_checkpoint(verifier.open(note.decode()))
    except (CallvaultError, UnicodeDecodeError) as exc:
        result.fail("audit-proof", _CHECKPOINT, f"the checkpoint does not verify: {exc}")
        return
    for name in _PROVED:
        if name not in members:
            continue
        try:
            doc = json.loads(members[name])
            if (
                doc["checkpoint"]["size"] != point.size
                or base64.b64decode(doc["checkpoint"]["root_hash"], validate=True) != point.root
            ):
                result.fail("audit-proof", name, "extract names another checkpoint")
                continue
            for row in doc["entries"]:
                leaf = bytes.fromhex(row["leaf_hash"])
                proof = [bytes.fromhex(h) for h in row["inclusion_proof"]]
                if not verify_inclusion(leaf, row["seq"], point.size, proof, point.root):
                    result.fail("audit-proof", name, f"entry {row['seq']} is not in the log")
                    break
                result.proofs += 1
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            result.fail("audit-proof", name, f"malformed audit extract: {exc}")
