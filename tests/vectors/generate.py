"""Generate tests/vectors/format_v1.json: test vectors for the callvault envelope format v1.

Run from the repository root::

    .venv/bin/python tests/vectors/generate.py           # rewrite the file
    .venv/bin/python tests/vectors/generate.py --check   # exit 1 if the file is stale

Every input (master keys, index keys, subject keys, DEKs, salts, nonces) is derived from a
fixed label with SHA-256 (``_derive``), so the output is the same on every run and on every
machine: the file changes only when the format or this script changes, and the tests fail
until it is regenerated on purpose. Objects are built with ``callvault.testing.seal_v1``
(test-only deterministic sealing); invalid vectors are byte-level edits of valid ones, or a
valid object opened under the wrong context. docs/format.md ("Test vectors") describes the
file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

from callvault._ids import DataClass, Environment
from callvault.format import Header, ObjectContext, header_length, wrap_aad
from callvault.testing import (
    local_kms_wrap,
    managed_key_aad,
    managed_key_name,
    seal_v1,
    subject_key_id,
)

OUTPUT = Path(__file__).with_name("format_v1.json")
GENERATED_ON = "2026-11-28"  # bump when the vectors are regenerated on purpose
SEED_LABEL = b"callvault/format-v1-vectors/"
RECIPE = "bytes(i % 251 for i in range(length))"
INLINE_LIMIT = 64  # plaintexts up to this size are written out in hex


def _derive(name: str, label: str, size: int = 32) -> bytes:
    """A fixed, reproducible stand-in for CSPRNG output: SHA-256 of a label."""
    digest = hashlib.sha256(SEED_LABEL + name.encode() + b"/" + label.encode()).digest()
    if size > len(digest):
        raise ValueError("size too large")
    return digest[:size]


def recipe_bytes(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


# -- valid vectors --------------------------------------------------------------------------


class Spec:
    """The inputs of one valid vector; derived secrets come from its name."""

    def __init__(
        self,
        name: str,
        comment: str,
        context: ObjectContext,
        key_id: str,
        key_version: int,
        plaintext: bytes,
        recipe: bool = False,
    ) -> None:
        self.name = name
        self.comment = comment
        self.context = context
        self.key_id = key_id
        self.key_version = key_version
        self.plaintext = plaintext
        self.recipe = recipe
        self.master_key = _derive(key_id, f"master-key/v{key_version}")
        self.dek = _derive(name, "dek")
        self.salt = _derive(name, "salt", 24)
        self.dek_wrap_nonce = _derive(name, "dek-wrap-nonce", 12)
        self.subject: dict[str, Any] | None = None
        self.subject_key: bytes | None = None
        self.subject_id = b""
        if context.subject is not None:
            index_key = _derive(context.tenant, "index-key")
            self.subject_id = subject_key_id(index_key, context.subject)
            self.subject_key = _derive(f"{context.tenant}/{context.subject}", "subject-key")
            name_ = managed_key_name(context.tenant, context.data_class, self.subject_id)
            record_nonce = _derive(name_, "record-wrap-nonce", 12)
            blob = local_kms_wrap(
                self.master_key,
                key_id,
                key_version,
                record_nonce,
                self.subject_key,
                managed_key_aad(name_),
            )
            self.subject = {
                "index_key": _derive(context.tenant, "index-key").hex(),
                "subject_key_id": self.subject_id.hex(),
                "subject_key": self.subject_key.hex(),
                "record": {
                    "name": name_,
                    "kek_id": key_id,
                    "version": key_version,
                    "wrap_nonce": record_nonce.hex(),
                    "wrapped": blob.hex(),
                },
            }

    def seal(self) -> bytes:
        return seal_v1(
            self.context,
            self.plaintext,
            dek=self.dek,
            salt=self.salt,
            dek_wrap_nonce=self.dek_wrap_nonce,
            key_id=self.key_id,
            key_version=self.key_version,
            master_key=self.master_key,
            subject_key=self.subject_key,
            subject_id=self.subject_id,
        )

    def keys(self) -> dict[str, Any]:
        return {
            "provider": "local",
            "master_key": self.master_key.hex(),
            "key_id": self.key_id,
            "key_version": self.key_version,
            "dek": self.dek.hex(),
            "salt": self.salt.hex(),
            "dek_wrap_nonce": self.dek_wrap_nonce.hex(),
            "subject": self.subject,
        }


def _ctx(
    env: str, tenant: str, cls: str, object_id: str, subject: str | None = None
) -> ObjectContext:
    return ObjectContext(tenant, Environment(env), DataClass(cls), object_id, subject)


_LONG_TENANT = ("t0-" * 21)[:63]
_LONG_OBJECT = ("O" + "bject.ID_with:colons-" * 7)[:128]
_LONG_KEY_ID = "dev/" + "K" * 500 + "/default"

SPECS = [
    Spec(
        "master-empty",
        "Empty message, DEK wrapped by the KMS master key: a single empty final chunk.",
        _ctx("dev", "acme", "recording", "call-0001"),
        "dev/acme/default",
        1,
        b"",
    ),
    Spec(
        "master-1-byte",
        "One-byte message, master-key wrap, master key version 2 (bound by the KMS wrap).",
        _ctx("staging", "acme", "transcript", "tr-0001"),
        "staging/acme/default",
        2,
        b"A",
    ),
    Spec(
        "master-16384",
        "Exactly one full chunk: encrypted as a full chunk followed by an empty final chunk.",
        _ctx("prod", "acme", "analytics", "row-0001"),
        "prod/acme/analytics",
        3,
        recipe_bytes(16384),
        recipe=True,
    ),
    Spec(
        "master-max-fields",
        "Longest tenant (63), object id (128) and key id (512), key version 2**32-1, "
        "data class backup.",
        _ctx("dev", _LONG_TENANT, "backup", _LONG_OBJECT),
        _LONG_KEY_ID,
        0xFFFFFFFF,
        b"backup manifest",
    ),
    Spec(
        "subject-empty",
        "Empty message, DEK wrapped by the data subject's key.",
        _ctx("dev", "acme", "recording", "call-0002", "+15551234567"),
        "dev/acme/default",
        1,
        b"",
    ),
    Spec(
        "subject-16385",
        "One full chunk and a one-byte final chunk, subject-key wrap, data class audit.",
        _ctx("dev", "acme", "audit", "audit-0001", "+15551234567"),
        "dev/acme/default",
        1,
        recipe_bytes(16385),
        recipe=True,
    ),
    Spec(
        "subject-3-chunks",
        "Three chunks (two full, a 100-byte final one), subject-key wrap, master key "
        "version 7 wraps the subject key.",
        _ctx("prod", "globex", "recording", "call-9001", "+442071838750"),
        "prod/globex/recording",
        7,
        recipe_bytes(2 * 16384 + 100),
        recipe=True,
    ),
    Spec(
        "subject-non-ascii",
        "Non-ASCII subject (UTF-8 on the wire, no normalization) and a UTF-8 plaintext.",
        _ctx("staging", "acme", "transcript", "tr-0002", "Zoë Ångström (東京) +81 3-1234-5678"),
        "staging/acme/default",
        1,
        "Bonjour, ça va ? 👋".encode(),
    ),
]
_BY_NAME = {spec.name: spec for spec in SPECS}


def _context_json(context: ObjectContext) -> dict[str, Any]:
    return {
        "tenant": context.tenant,
        "environment": context.environment.value,
        "data_class": context.data_class.value,
        "object_id": context.object_id,
        "subject": context.subject,
    }


def _plaintext_json(spec: Spec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "length": len(spec.plaintext),
        "sha256": hashlib.sha256(spec.plaintext).hexdigest(),
    }
    if spec.recipe or len(spec.plaintext) > INLINE_LIMIT:
        if spec.plaintext != recipe_bytes(len(spec.plaintext)):
            raise ValueError(f"{spec.name}: plaintext does not follow the recipe")
        out["recipe"] = RECIPE
    else:
        out["hex"] = spec.plaintext.hex()
    return out


def _valid(spec: Spec) -> dict[str, Any]:
    sealed = spec.seal()
    return {
        "id": spec.name,
        "expect": "valid",
        "comment": spec.comment,
        "keys": spec.keys(),
        "context": _context_json(spec.context),
        "plaintext": _plaintext_json(spec),
        "header_length": header_length(sealed[:8]),
        "sealed": sealed.hex(),
    }


# -- invalid vectors ------------------------------------------------------------------------


def _invalid(
    name: str,
    base: str,
    layer: str,
    comment: str,
    sealed: bytes,
    context: ObjectContext | None = None,
    **extra: Any,
) -> dict[str, Any]:
    spec = _BY_NAME[base]
    vector: dict[str, Any] = {
        "id": name,
        "expect": "invalid",
        "error": "OpenError",
        "layer": layer,
        "comment": comment,
        "derived_from": base,
        "keys": spec.keys(),
        "context": _context_json(context or spec.context),
        "sealed": sealed.hex(),
    }
    vector.update(extra)
    return vector


def _fields(sealed: bytes) -> dict[str, int]:
    """Offsets of each header field of a valid sealed object."""
    header = Header.parse(sealed[: header_length(sealed[:8])])
    plen = len(header.key_ref.provider)
    klen = len(header.key_ref.key_id.encode())
    offsets = {"provider_len": 8, "provider": 9, "key_id_len": 9 + plen}
    offsets["key_id"] = offsets["key_id_len"] + 2
    offsets["version"] = offsets["key_id"] + klen
    offsets["subject_len"] = offsets["version"] + 4
    offsets["subject"] = offsets["subject_len"] + 1
    offsets["wrapped_len"] = offsets["subject"] + len(header.subject_key_id)
    offsets["wrapped"] = offsets["wrapped_len"] + 2
    offsets["end"] = offsets["wrapped"] + len(header.wrapped_dek)
    return offsets


def _set(data: bytes, offset: int, value: bytes) -> bytes:
    if offset < 0:
        offset += len(data)
    return data[:offset] + value + data[offset + len(value) :]


def _flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    return _set(data, offset, bytes([data[offset] ^ mask]))


def _rebuild(header: Header, sealed: bytes, **changes: Any) -> bytes:
    """Re-encode a header with raw field changes (lengths recomputed), keep the body."""
    provider = changes.get("provider", header.key_ref.provider.encode())
    key_id = changes.get("key_id", header.key_ref.key_id.encode())
    version = changes.get("version", header.key_ref.version)
    subject = changes.get("subject", header.subject_key_id)
    wrapped = changes.get("wrapped", header.wrapped_dek)
    rest = b"".join(
        [
            struct.pack(">B", changes.get("provider_len", len(provider))),
            provider,
            struct.pack(">H", len(key_id)),
            key_id,
            struct.pack(">I", version),
            struct.pack(">B", changes.get("subject_len", len(subject))),
            subject,
            struct.pack(">H", len(wrapped)),
            wrapped,
        ]
    )
    new_header = b"CVLT\x01\x00" + struct.pack(">H", 8 + len(rest)) + rest
    return new_header + sealed[header_length(sealed[:8]) :]


def _parts(spec: Spec) -> tuple[bytes, Header, bytes]:
    sealed = spec.seal()
    size = header_length(sealed[:8])
    return sealed, Header.parse(sealed[:size]), sealed[size:]


def _context_vectors() -> list[dict[str, Any]]:
    out = []
    base = _BY_NAME["master-empty"]
    sealed = base.seal()
    c = base.context
    cases: list[tuple[str, str, ObjectContext, dict[str, Any]]] = [
        ("tenant", "another tenant", _ctx("dev", "acme-2", "recording", c.object_id), {}),
        (
            "environment",
            "another environment (the wrap AAD binds it; a real opener configured for that "
            "environment refuses the dev key id first, with EnvironmentMismatch)",
            _ctx("staging", "acme", "recording", c.object_id),
            {"opener_error": "EnvironmentMismatch"},
        ),
        ("data-class", "another data class", _ctx("dev", "acme", "transcript", c.object_id), {}),
        ("object-id", "another object id", _ctx("dev", "acme", "recording", "call-0002"), {}),
        (
            "subject-added",
            "a subject, for an object sealed without one",
            _ctx("dev", "acme", "recording", c.object_id, "+15551234567"),
            {},
        ),
    ]
    for suffix, what, context, extra in cases:
        out.append(
            _invalid(
                f"context-{suffix}",
                base.name,
                "unwrap",
                f"Valid object opened under {what}: the DEK wrap's AAD does not match.",
                sealed,
                context,
                **extra,
            )
        )
    base = _BY_NAME["subject-non-ascii"]
    sealed = base.seal()
    c = base.context
    subject_cases = [
        (
            "subject-changed",
            "a different subject (same letters without diacritics)",
            _ctx(
                "staging", "acme", "transcript", c.object_id, "Zoe Angstrom (東京) +81 3-1234-5678"
            ),
        ),
        (
            "subject-removed",
            "no subject, for an object sealed with one",
            _ctx("staging", "acme", "transcript", c.object_id),
        ),
        (
            "subject-tenant",
            "another tenant (subject-key path)",
            _ctx("staging", "acme-2", "transcript", c.object_id, c.subject),
        ),
        (
            "subject-data-class",
            "another data class (subject-key path: no subject key of that class)",
            _ctx("staging", "acme", "analytics", c.object_id, c.subject),
        ),
    ]
    for suffix, what, context in subject_cases:
        out.append(
            _invalid(
                f"context-{suffix}",
                base.name,
                "unwrap",
                f"Valid object opened under {what}: the DEK wrap's AAD does not match.",
                sealed,
                context,
            )
        )
    return out


def _header_vectors() -> list[dict[str, Any]]:
    base = _BY_NAME["master-1-byte"]
    sealed, header, _body = _parts(base)
    off = _fields(sealed)
    size = len(header.encode())

    def length(value: int) -> bytes:
        return _set(sealed, 6, struct.pack(">H", value))

    other = Spec(
        "master-1-byte-other-object",
        "",
        _ctx("staging", "acme", "transcript", "tr-0009"),
        base.key_id,
        base.key_version,
        b"A",
    )
    other_header = Header.parse(other.seal()[: header_length(other.seal()[:8])])
    wrong_dek = _derive("master-1-byte", "wrong-dek")
    wrong_nonce = _derive("master-1-byte", "wrong-dek-wrap-nonce", 12)
    wrong_wrap = local_kms_wrap(
        base.master_key,
        base.key_id,
        base.key_version,
        wrong_nonce,
        wrong_dek,
        wrap_aad(header.key_ref, b"", base.context),
    )
    stray_subject = _derive("master-1-byte", "stray-subject-key-id")
    cases: list[tuple[str, str, str, bytes]] = [
        ("magic", "parse", "First magic byte changed ('CVLT' -> 'BVLT').", _flip(sealed, 0)),
        (
            "version-2",
            "parse",
            "Format version 2: unknown to a v1 reader.",
            _set(sealed, 4, b"\x02"),
        ),
        ("version-0", "parse", "Format version 0.", _set(sealed, 4, b"\x00")),
        ("flags-1", "parse", "Flags byte 0x01: v1 defines no flags.", _set(sealed, 5, b"\x01")),
        ("flags-80", "parse", "Flags byte 0x80.", _set(sealed, 5, b"\x80")),
        (
            "length-plus-1",
            "parse",
            "Header length one more than the fields take (swallows a body byte).",
            length(size + 1),
        ),
        (
            "length-minus-1",
            "parse",
            "Header length one less than the fields take.",
            length(size - 1),
        ),
        ("length-max", "parse", "Header length 0xFFFF, above the 8192 limit.", length(0xFFFF)),
        ("length-8", "parse", "Header length 8: a prefix with no fields.", length(8)),
        (
            "provider-length",
            "parse",
            "Provider length prefix one too large (the fields no longer line up).",
            _rebuild(header, sealed, provider_len=len(header.key_ref.provider) + 1),
        ),
        (
            "provider-uppercase",
            "parse",
            "Provider 'Local': outside the provider alphabet [a-z][a-z0-9-]*.",
            _rebuild(header, sealed, provider=b"Local"),
        ),
        (
            "provider-edited",
            "unwrap",
            "Provider 'mocal' (well-formed, but bound by the wrap AAD and the body context).",
            _flip(sealed, off["provider"]),
        ),
        (
            "key-id-edited",
            "unwrap",
            "Last key id character changed within the alphabet ('default' -> 'defaulu').",
            _flip(sealed, off["version"] - 1),
        ),
        (
            "key-id-bad-char",
            "parse",
            "A space in the key id: outside the key id alphabet.",
            _set(sealed, off["version"] - 1, b" "),
        ),
        (
            "key-id-not-utf8",
            "parse",
            "Byte 0xFF in the key id: not UTF-8.",
            _set(sealed, off["version"] - 1, b"\xff"),
        ),
        (
            "key-version-edited",
            "unwrap",
            "Key version 2 -> 3 in a master-key header: the local KMS wrap binds the version.",
            _set(sealed, off["version"], struct.pack(">I", 3)),
        ),
        (
            "key-version-0",
            "parse",
            "Key version 0: versions start at 1.",
            _set(sealed, off["version"], struct.pack(">I", 0)),
        ),
        (
            "subject-id-16",
            "parse",
            "Subject key id of 16 bytes: only 0 or 32 are allowed.",
            _rebuild(header, sealed, subject=stray_subject[:16]),
        ),
        (
            "subject-id-length-only",
            "parse",
            "Subject key id length 32 with no bytes after it (the fields no longer line up).",
            _rebuild(header, sealed, subject_len=32),
        ),
        (
            "subject-id-added",
            "unwrap",
            "A 32-byte subject key id added to a master-key header.",
            _rebuild(header, sealed, subject=stray_subject),
        ),
        (
            "wrapped-flipped",
            "unwrap",
            "Last byte of the wrapped DEK changed.",
            _flip(sealed, off["end"] - 1),
        ),
        (
            "wrapped-empty",
            "parse",
            "Wrapped DEK of length 0.",
            _rebuild(header, sealed, wrapped=b""),
        ),
        (
            "wrapped-short",
            "unwrap",
            "Wrapped DEK one byte short (59 bytes; canonical header, bad wrap).",
            _rebuild(header, sealed, wrapped=header.wrapped_dek[:-1]),
        ),
        (
            "wrapped-other-object",
            "unwrap",
            "Wrapped DEK of another object under the same master key (object tr-0009): "
            "its wrap AAD names the other object.",
            _rebuild(header, sealed, wrapped=other_header.wrapped_dek),
        ),
        (
            "wrapped-wrong-dek",
            "commitment",
            "A genuine wrap, under this header's exact AAD, of a different DEK: unwraps, "
            "then fails the body's key commitment.",
            _rebuild(header, sealed, wrapped=wrong_wrap),
        ),
    ]
    out = [
        _invalid(f"header-{suffix}", base.name, layer, comment, data)
        for suffix, layer, comment, data in cases
    ]

    base = _BY_NAME["subject-non-ascii"]
    sealed, header, _body = _parts(base)
    off = _fields(sealed)
    subject_cases = [
        (
            "subject-id-flipped",
            "unwrap",
            "Last byte of the subject key id changed: no such subject key, and the wrap AAD "
            "binds the id.",
            _flip(sealed, off["wrapped_len"] - 1),
            {},
        ),
        (
            "subject-id-removed",
            "unwrap",
            "Subject key id removed: the reader then asks the KMS to unwrap a subject-key wrap.",
            _rebuild(header, sealed, subject=b""),
            {},
        ),
        (
            "subject-key-version-edited",
            "unwrap",
            "Key version 1 -> 2 in a subject-key header: not in the body context, but the "
            "subject-key wrap's AAD binds it (a subject key has no versions of its own).",
            _set(sealed, off["version"], struct.pack(">I", 2)),
            {},
        ),
    ]
    out += [
        _invalid(f"header-{suffix}", base.name, layer, comment, data, **extra)
        for suffix, layer, comment, data, extra in subject_cases
    ]
    return out


def _body_vectors() -> list[dict[str, Any]]:
    base = _BY_NAME["master-1-byte"]
    sealed, _header, body = _parts(base)
    h = len(sealed) - len(body)
    other = Spec(
        "master-1-byte-same-context",
        "",
        base.context,
        base.key_id,
        base.key_version,
        b"A",
    )
    other_body = other.seal()[h:]
    cases: list[tuple[str, str, str, bytes]] = [
        ("salt-flipped", "commitment", "First salt byte changed.", _flip(sealed, h)),
        (
            "commitment-flipped",
            "commitment",
            "Last commitment byte changed.",
            _flip(sealed, h + 55),
        ),
        (
            "chunk-flipped",
            "body",
            "First ciphertext byte of chunk 0 changed.",
            _flip(sealed, h + 56),
        ),
        ("tag-flipped", "body", "Last tag byte of the final chunk changed.", _flip(sealed, -1)),
        ("truncated-1", "body", "Last byte removed.", sealed[:-1]),
        ("trailing-byte", "body", "One byte appended.", sealed + b"\x00"),
        ("header-only", "body", "Header with no body at all.", sealed[:h]),
        (
            "prefix-only",
            "body",
            "Header, salt and commitment, no chunk (a body needs at least one chunk).",
            sealed[: h + 56],
        ),
        (
            "short-body",
            "body",
            "Body of 71 bytes: salt, commitment and a 15-byte final chunk (shorter than a tag).",
            sealed[: h + 71],
        ),
        (
            "other-body",
            "commitment",
            "This header before the body of another object with the same context and key: the "
            "DEK does not match the other body's commitment.",
            sealed[:h] + other_body,
        ),
    ]
    out = [
        _invalid(f"body-{suffix}", base.name, layer, comment, data)
        for suffix, layer, comment, data in cases
    ]

    base = _BY_NAME["master-16384"]
    sealed, _header, _body = _parts(base)
    out.append(
        _invalid(
            "body-final-empty-chunk-dropped",
            base.name,
            "body",
            "16384-byte message with its empty final chunk (a lone tag) removed: the body ends "
            "at a chunk boundary, which is truncation.",
            sealed[:-16],
        )
    )
    base = _BY_NAME["subject-3-chunks"]
    sealed, _header, body = _parts(base)
    h = len(sealed) - len(body)
    enc = 16400
    c0 = sealed[h + 56 : h + 56 + enc]
    c1 = sealed[h + 56 + enc : h + 56 + 2 * enc]
    swapped = sealed[: h + 56] + c1 + c0 + sealed[h + 56 + 2 * enc :]
    out.append(
        _invalid(
            "body-chunks-swapped",
            base.name,
            "body",
            "Chunks 0 and 1 swapped: each chunk's nonce encodes its index.",
            swapped,
        )
    )
    out.append(
        _invalid(
            "body-final-chunk-dropped",
            base.name,
            "body",
            "Three-chunk message with its final chunk removed: ends at a chunk boundary.",
            sealed[: h + 56 + 2 * enc],
        )
    )
    out.append(
        _invalid(
            "body-truncated-to-full-chunk",
            base.name,
            "body",
            "Three-chunk message cut after chunk 0 and the first 16 bytes of chunk 1: the size "
            "suggests a 16384-byte message ending in an empty chunk 1. Chunk 0 is authentic, "
            "so a reader of bytes 0-16383 must authenticate the final chunk to notice.",
            sealed[: h + 56 + enc + 16],
        )
    )
    base = _BY_NAME["master-empty"]
    sealed = base.seal()
    out.append(_invalid("input-empty", base.name, "parse", "Zero bytes.", b""))
    out.append(
        _invalid("input-7-bytes", base.name, "parse", "The first 7 bytes of a header.", sealed[:7])
    )
    return out


# -- document -------------------------------------------------------------------------------


def build_document() -> dict[str, Any]:
    vectors = [_valid(spec) for spec in SPECS]
    vectors += _context_vectors() + _header_vectors() + _body_vectors()
    ids = [v["id"] for v in vectors]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate vector ids")
    return {
        "format": "callvault-format-vectors/v1",
        "description": "Test vectors for the callvault envelope format v1 (docs/format.md): "
        "valid sealed objects with every input needed to rebuild them byte for byte, and "
        "invalid ones that every reader MUST reject with its one opaque error.",
        "provenance": {
            "generator": "tests/vectors/generate.py (callvault.testing.seal_v1)",
            "format_version": 1,
            "date": GENERATED_ON,
            "inputs": "every key, salt and nonce is SHA-256('callvault/format-v1-vectors/' "
            "|| name || '/' || label), truncated to its size; the master key of key id K at "
            "version V is the one labelled 'master-key/vV' under name K",
            "cross_checks": "tests/vectors/test_format_vectors.py opens every vector with "
            "cryptography.cobblestone (an independent Cobblestone-256 implementation), with "
            "callvault's RangeReader, and with the real opener over a local KMS keyring",
        },
        "schema": {
            "expect": "'valid': MUST open to the plaintext; 'invalid': MUST NOT open",
            "error": "for invalid vectors, the error a reader raises: always OpenError",
            "opener_error": "when present, the error callvault's key hierarchy raises instead "
            "of OpenError, before touching the ciphertext (a fact about keys, not an oracle)",
            "layer": "the first check that fails: parse (header), unwrap (DEK recovery), "
            "commitment (body key commitment), body (chunk tags, length, truncation)",
            "known_issue": "when present, the implementation is known to disagree with the "
            "stated outcome; the vector states the outcome the specification requires",
            "keys": "what the opener holds: local KMS master key (key_id, key_version); for "
            "subject vectors the managed-key record (subject key wrapped by the master key) "
            "and the subject key; dek, salt and dek_wrap_nonce are the sealing inputs (for "
            "invalid vectors, those of the vector they derive from)",
            "context": "the object context the opener uses",
            "plaintext": "hex, or recipe (a Python expression over length) with its length "
            "and SHA-256",
            "sealed": "the complete sealed object, hex",
        },
        "recipes": {RECIPE: "byte i of the plaintext is i mod 251"},
        "vectors": vectors,
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale; run tests/vectors/generate.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(build_document()['vectors'])} vectors)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
