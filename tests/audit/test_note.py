"""C2SP tlog-checkpoint / signed-note: exact byte structure, signature checked independently
with ``cryptography`` over the note text, verifier key format, and rejection of tampering."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from callvault import InvalidRequest
from callvault.audit import AuditLog, NoteVerifier, parse_checkpoint, root_hash, sign_note

NOTE = re.compile(
    r"(?P<origin>[^\s+]+)\n(?P<size>0|[1-9][0-9]*)\n(?P<root>[A-Za-z0-9+/]{43}=)\n"
    r"\n\u2014 (?P<name>[^\s+]+) (?P<sig>[A-Za-z0-9+/]{91}=)\n"
)


def test_checkpoint_note_has_the_c2sp_structure_and_verifies(
    audit_log: AuditLog, fill: Callable[[AuditLog, int], None]
) -> None:
    fill(audit_log, 5)
    point, note = audit_log.checkpoint()
    match = NOTE.fullmatch(note)
    assert match, note
    assert match["origin"] == match["name"] == audit_log.origin
    assert int(match["size"]) == point.size == 5
    assert base64.b64decode(match["root"]) == root_hash(audit_log.leaf_hashes())

    # Independent check of signed-note: key id = SHA-256(name || \n || 0x01 || pub)[:4],
    # then an Ed25519 signature over the note text (body including its final newline).
    raw_pub = audit_log.keys.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    blob = base64.b64decode(match["sig"])
    expected_id = hashlib.sha256(match["name"].encode() + b"\n\x01" + raw_pub).digest()[:4]
    assert blob[:4] == expected_id
    body = note[: note.index("\n\n") + 1]
    audit_log.keys.public_key.verify(blob[4:], body.encode())

    vkey = str(audit_log.verifier())
    name, hex_id, encoded = vkey.split("+", 2)
    assert (name, hex_id) == (audit_log.origin, expected_id.hex())
    assert base64.b64decode(encoded) == b"\x01" + raw_pub
    assert parse_checkpoint(NoteVerifier.from_string(vkey).open(note)) == point
    assert (audit_log.checkpoint_dir / f"{5:016d}.note").read_text() == note


def test_a_changed_note_or_another_key_is_rejected() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_note(
        "example.org/log\n3\n" + base64.b64encode(bytes(32)).decode() + "\n", "example.org/log", key
    )
    verifier = NoteVerifier("example.org/log", key.public_key())
    assert verifier.open(note).startswith("example.org/log\n3\n")
    with pytest.raises(InvalidRequest, match="does not verify"):
        verifier.open(note.replace("\n3\n", "\n4\n"))
    other = NoteVerifier("example.org/log", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(InvalidRequest, match="no signature of the trusted key"):
        other.open(note)  # unknown key (different id): ignored, so no trusted signature
    with pytest.raises(InvalidRequest):
        verifier.open(note.replace("\n\n", "\n"))


def test_verifier_key_string_is_checked() -> None:
    verifier = NoteVerifier("example.org/log", Ed25519PrivateKey.generate().public_key())
    text = str(verifier)
    assert NoteVerifier.from_string(text).key_id == verifier.key_id
    name, hex_id, encoded = text.split("+", 2)
    with pytest.raises(InvalidRequest, match="key id"):
        NoteVerifier.from_string(f"{name}+00000000+{encoded}")
    with pytest.raises(InvalidRequest):
        NoteVerifier.from_string(f"{name}+{hex_id}")


def test_verifier_keys_round_trip_whatever_their_base64() -> None:
    for _ in range(64):  # base64 of a public key often contains '+', the field separator
        verifier = NoteVerifier("example.org/log", Ed25519PrivateKey.generate().public_key())
        assert NoteVerifier.from_string(str(verifier)).key_id == verifier.key_id
