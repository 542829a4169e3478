"""C2SP ``tlog-checkpoint`` bodies signed as C2SP ``signed-note`` with Ed25519.

A checkpoint body is three lines: the log's *origin* (a schema-less URL naming the log),
the tree size in decimal, and the base64 root hash. The note appends a blank line and one
signature line per signer: ``— <key name> base64(key id || signature)``, where the key id is
``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` and the Ed25519 signature covers the
note text (the body, final newline included). The verifier key string
``<name>+<hex key id>+base64(0x01 || public key)`` is what a witness configures: the same
format as Go's ``golang.org/x/mod/sumdb/note``, so standard tooling reads our checkpoints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from callvault.errors import InvalidRequest

__all__ = [
    "Checkpoint",
    "NoteVerifier",
    "checkpoint_body",
    "key_id",
    "parse_checkpoint",
    "sign_note",
    "verifier_key",
]

_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "  # em dash, space
_NAME = re.compile(r"[^\s+]+")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + _raw(public)).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """``<name>+<8 hex digits>+<base64(0x01 || pubkey)>``, the note verifier key string."""
    encoded = base64.b64encode(_ED25519 + _raw(public)).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    if not _NAME.fullmatch(origin) or len(root) != 32 or size < 0:
        raise InvalidRequest("malformed checkpoint fields")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(body: str, name: str, private: Ed25519PrivateKey) -> str:
    """The signed note: body, blank line, one Ed25519 signature line."""
    if not body.endswith("\n") or not _NAME.fullmatch(name):
        raise InvalidRequest("note text must end in a newline; key name must have no space or +")
    signature = private.sign(body.encode())
    stamp = base64.b64encode(key_id(name, private.public_key()) + signature).decode()
    return f"{body}\n{_SIG_PREFIX}{name} {stamp}\n"


class NoteVerifier:
    """One trusted key, as a witness holds it: parse a verifier key string or a public key."""

    def __init__(self, name: str, public: Ed25519PublicKey) -> None:
        self.name = name
        self.public = public
        self.key_id = key_id(name, public)

    @classmethod
    def from_string(cls, vkey: str) -> NoteVerifier:
        try:
            name, hex_id, encoded = vkey.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            if raw[:1] != _ED25519 or len(raw) != 33:
                raise ValueError("not an Ed25519 verifier key")
            verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        except (ValueError, binascii.Error):
            raise InvalidRequest("malformed note verifier key") from None
        if verifier.key_id.hex() != hex_id.lower():
            raise InvalidRequest("note verifier key id does not match its public key")
        return verifier

    def __str__(self) -> str:
        return verifier_key(self.name, self.public)

    def open(self, note: str) -> str:
        """The note text if a signature line of this key verifies; else ``InvalidRequest``.

        Per signed-note: signatures of unknown keys are ignored; a failing signature of the
        known key rejects the note.
        """
        text, sep, signatures = note.partition("\n\n" + _SIG_PREFIX)
        if not sep or not note.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in note):
            raise InvalidRequest("not a signed note")
        text += "\n"
        verified = False
        for line in (_SIG_PREFIX + signatures).rstrip("\n").split("\n"):
            if not line.startswith(_SIG_PREFIX):
                raise InvalidRequest("malformed signature line in note")
            name, _, stamp = line[len(_SIG_PREFIX) :].partition(" ")
            try:
                blob = base64.b64decode(stamp, validate=True)
            except binascii.Error:
                raise InvalidRequest("malformed signature in note") from None
            if name != self.name or blob[:4] != self.key_id:
                continue
            try:
                self.public.verify(blob[4:], text.encode())
            except InvalidSignature:
                raise InvalidRequest("note signature does not verify") from None
            verified = True
        if not verified:
            raise InvalidRequest("note carries no signature of the trusted key")
        return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a verified checkpoint body (origin, size, root; extension lines ignored)."""
    lines = text.split("\n")
    try:
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise ValueError("bad size")
        root = base64.b64decode(root_text, validate=True)
    except (IndexError, ValueError, binascii.Error):
        raise InvalidRequest("malformed checkpoint") from None
    if len(root) != 32 or not origin:
        raise InvalidRequest("malformed checkpoint")
    return Checkpoint(origin, int(size_text), root)
