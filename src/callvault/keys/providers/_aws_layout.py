"""How callvault's versioned master keys are laid out in AWS KMS (names and tags; no I/O).

AWS rotates a KMS key's backing material internally and shows no version numbers, but a
callvault ciphertext header names the master key *version* that wrapped its data key, a
minimum decryption version must retire old versions, and ``rotate`` must yield a new
version at once. So every callvault version is its own KMS key, tied together by aliases::

    alias/callvault/<env>/<tenant>/<scope>               → the primary version's KMS key
    alias/callvault/<env>/<tenant>/<scope>/v<N>          → version N (while it may decrypt)
    alias/callvault/<env>/<tenant>/<scope>/retired/v<N>  → version N once retired

and tags on each version's KMS key: ``callvault:key-id``, ``callvault:version``,
``callvault:environment``, ``callvault:anchor`` (the KMS key id of version 1; absent on
version 1 itself), the labels as ``callvault:label:<name>``, and on version 1 only the
mutable ``callvault:min-decrypt-version``. The tags are written by ``CreateKey`` in the
same call that creates the key, and checked whenever a key is reached through an alias, so
an alias pointed at a foreign key is noticed instead of trusted.

The encryption context binds the caller's associated data: ``callvault:key-id`` and
``callvault:ad-sha256`` (base64 SHA-256 of the framed associated data). A digest rather than
the data itself keeps the context small and constant-size, and keeps object ids and blind
subject ids out of CloudTrail, which records encryption contexts in clear. The version needs
no context entry: each version is its own KMS key, and unwrap pins that key.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from callvault._ids import Environment
from callvault.errors import InvalidRequest
from callvault.format._encoding import encode_fields

__all__ = [
    "TAG_MIN",
    "VersionTags",
    "check_labels",
    "encryption_context",
    "key_id_of_alias",
    "primary_alias",
    "retired_alias",
    "valid_key_id",
    "version_alias",
    "version_tags",
]

ALIAS_ROOT = "alias/callvault/"
TAG_KEY_ID = "callvault:key-id"
TAG_VERSION = "callvault:version"
TAG_ENVIRONMENT = "callvault:environment"
TAG_ANCHOR = "callvault:anchor"
TAG_MIN = "callvault:min-decrypt-version"
LABEL_PREFIX = "callvault:label:"
MAX_LABELS = 40  # AWS allows 50 tags per key; 5 are ours

_KEY_ID = re.compile(r"[a-z]{1,16}/[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9_-]{0,63}")
_LABEL_NAME = re.compile(r"[A-Za-z0-9_.:/=+@ -]{1,112}")
_LABEL_VALUE = re.compile(r"[A-Za-z0-9_.:/=+@ -]{0,256}")


def valid_key_id(key_id: str) -> bool:
    """Whether the key id fits an alias name (``[a-zA-Z0-9:/_-]``, 256 characters)."""
    return _KEY_ID.fullmatch(key_id) is not None


def primary_alias(key_id: str) -> str:
    return f"{ALIAS_ROOT}{key_id}"


def version_alias(key_id: str, version: int) -> str:
    return f"{ALIAS_ROOT}{key_id}/v{version}"


def retired_alias(key_id: str, version: int) -> str:
    return f"{ALIAS_ROOT}{key_id}/retired/v{version}"


def key_id_of_alias(alias_name: str, environment: Environment) -> str | None:
    """The key id a primary alias stands for, if it is one of ``environment``'s."""
    if not alias_name.startswith(f"{ALIAS_ROOT}{environment.value}/"):
        return None
    key_id = alias_name.removeprefix(ALIAS_ROOT)
    return key_id if valid_key_id(key_id) else None


def check_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels become tags, so they must fit AWS's tag alphabet and limits; refused, not cut."""
    if len(labels) > MAX_LABELS:
        raise InvalidRequest(f"at most {MAX_LABELS} labels fit on an AWS KMS key")
    for name, value in labels.items():
        if not _LABEL_NAME.fullmatch(name) or not _LABEL_VALUE.fullmatch(value):
            raise InvalidRequest(
                "AWS KMS labels are tags: names of 1-112 and values of 0-256 characters of "
                "A-Z a-z 0-9 and _ . : / = + @ - space"
            )
    return dict(labels)


def version_tags(
    key_id: str,
    environment: Environment,
    version: int,
    labels: Mapping[str, str],
    anchor: str | None,
) -> list[dict[str, str]]:
    """The tags ``CreateKey`` writes on a version's KMS key."""
    tags = {
        TAG_KEY_ID: key_id,
        TAG_VERSION: str(version),
        TAG_ENVIRONMENT: environment.value,
    }
    if anchor is None:
        tags[TAG_MIN] = "1"
    else:
        tags[TAG_ANCHOR] = anchor
    tags.update({f"{LABEL_PREFIX}{name}": value for name, value in labels.items()})
    return [{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())]


@dataclass(frozen=True, slots=True)
class VersionTags:
    """What a version's KMS key says about itself."""

    key_id: str
    environment: str
    version: int
    anchor: str | None
    min_decrypt: int | None
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, tags: list[dict[str, str]]) -> VersionTags | None:
        """None when the key is not a well-formed callvault version key."""
        values = {t["TagKey"]: t["TagValue"] for t in tags}
        try:
            version = int(values[TAG_VERSION])
            minimum = int(values[TAG_MIN]) if TAG_MIN in values else None
            return cls(
                key_id=values[TAG_KEY_ID],
                environment=values[TAG_ENVIRONMENT],
                version=version,
                anchor=values.get(TAG_ANCHOR),
                min_decrypt=minimum,
                labels={
                    k.removeprefix(LABEL_PREFIX): v
                    for k, v in values.items()
                    if k.startswith(LABEL_PREFIX)
                },
            )
        except (KeyError, ValueError):
            return None


def encryption_context(key_id: str, associated_data: bytes) -> dict[str, str]:
    digest = hashlib.sha256(encode_fields(b"callvault/aws-kms-ad/v1", [associated_data]))
    return {
        "callvault:key-id": key_id,
        "callvault:ad-sha256": base64.b64encode(digest.digest()).decode(),
    }
