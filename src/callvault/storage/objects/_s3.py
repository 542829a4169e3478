"""``S3ObjectStore``: sealed objects in an S3-compatible bucket, ``<prefix><tenant>/<class>/<id>``.

Writes stream through ``upload_stream`` (one PUT or a multipart upload, aborted on
failure). Range reads are ranged GETs (``Range: bytes=a-b``) pinned with ``If-Match`` to
the ETag seen when the reader was opened, so a reader never mixes two versions of an
object: an overwrite mid-read is an ``ObjectStoreError``, not a silent splice (the local
store gets the same property from its open file descriptor). The client must verify TLS
certificates; a client built with ``verify=False`` or an ``http://`` endpoint is refused,
and an ``https://`` one sends under callvault's TLS policy (``_s3_tls``): TLS 1.3 unless
``allow_tls12``, every new connection read back and kept as evidence (:meth:`tls_evidence`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from callvault.errors import InvalidRequest
from callvault.storage.objects._base import (
    STREAM_BLOCK,
    ObjectInfo,
    ObjectStat,
    Source,
    iter_source,
)
from callvault.storage.objects._errors import ObjectNotFound, ObjectStoreError
from callvault.storage.objects._keys import check_key, check_prefix
from callvault.storage.objects._reader import ObjectReader
from callvault.storage.objects._s3_errors import backend_errors, raise_for
from callvault.storage.objects._s3_tls import check_endpoint, secure_s3_client
from callvault.storage.objects._s3_upload import SSE, no_sse_error, upload_stream
from callvault.transport.clients import ClientTlsEvidence

__all__ = ["MIN_PART_SIZE", "PREFIX_PATTERN", "S3ObjectReader", "S3ObjectStore", "check_endpoint"]

MIN_PART_SIZE = 8 * 1024 * 1024
PREFIX_PATTERN = r"^([A-Za-z0-9_-][A-Za-z0-9._-]*/)*$"
"""A bucket prefix: empty, or relative segments each ending in '/' (no '.' or '..' segment)."""


class S3ObjectReader(ObjectReader):
    """Ranged GETs of one object version. ``requests`` and ``bytes_fetched`` count what
    the reader asked for, so callers can show (and tests prove) how little a range costs."""

    def __init__(self, store: S3ObjectStore, key: str, size: int, etag: str) -> None:
        super().__init__(key, size)
        self._store = store
        self._etag = etag
        self.requests = 0
        self.bytes_fetched = 0

    def _fetch(self, offset: int, size: int) -> bytes:
        self.requests += 1
        data = self._store._get_range(self.key, offset, size, self._etag)
        self.bytes_fetched += len(data)
        if len(data) != size:
            raise ObjectStoreError(f"short read of {self.key!r} at {offset}")
        return data


class S3ObjectStore:
    """Sealed objects in ``bucket`` under ``prefix`` (empty or ending in '/')."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: Any,
        *,
        server_side_encryption: bool = True,
        part_size: int = MIN_PART_SIZE,
        allow_plaintext_endpoint_for_tests: bool = False,
        allow_tls12: bool = False,
    ) -> None:
        if not re.fullmatch(PREFIX_PATTERN, prefix):
            raise ObjectStoreError("S3 prefix must be empty or 'a/b/' (relative, no '..')")
        if part_size < MIN_PART_SIZE:
            raise ObjectStoreError(f"part size must be at least {MIN_PART_SIZE} bytes")
        self._tls = secure_s3_client(
            client, allow_plaintext=allow_plaintext_endpoint_for_tests, allow_tls12=allow_tls12
        )
        self.bucket = bucket
        self.prefix = prefix
        self._client = client
        self._sse = server_side_encryption
        self._part_size = part_size

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.bucket!r}, {self.prefix!r})"

    def tls_evidence(self) -> tuple[ClientTlsEvidence, ...]:
        """What the client's latest new connections negotiated (protocol, suite, peer
        certificate), oldest first; empty for a plaintext test endpoint."""
        return self._tls.evidence() if self._tls is not None else ()

    def put_stream(self, key: str, chunks: Source) -> ObjectInfo:
        name = self._name(check_key(key))
        try:
            size, sha256 = upload_stream(
                self._client,
                self.bucket,
                name,
                iter_source(chunks),
                part_size=self._part_size,
                server_side_encryption=self._sse,
            )
        except backend_errors() as exc:  # the source's own errors propagate unchanged
            raise_for(exc, key)
        return ObjectInfo(key, size, sha256, datetime.now(UTC))

    def open_reader(self, key: str) -> S3ObjectReader:
        head = self._head(check_key(key))
        return S3ObjectReader(self, key, head["ContentLength"], head["ETag"])

    def get_stream(self, key: str) -> Iterator[bytes]:
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self._name(check_key(key)))[
                "Body"
            ]
        except backend_errors() as exc:
            raise_for(exc, key)
        return _stream(body, key)

    def delete(self, key: str) -> None:
        self._head(check_key(key))  # S3 deletes are idempotent; the contract is not
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except backend_errors() as exc:
            raise_for(exc, key)

    def exists(self, key: str) -> bool:
        try:
            self._head(check_key(key))
        except ObjectNotFound:
            return False
        return True

    def stat(self, key: str) -> ObjectStat:
        head = self._head(check_key(key))
        return ObjectStat(key, head["ContentLength"], head["LastModified"].astimezone(UTC))

    def list(self, prefix: str = "") -> Iterator[str]:
        parts = check_prefix(prefix)
        search = self.prefix + "".join(f"{part}/" for part in parts)
        found = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=search
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    found.append(item["Key"][len(self.prefix) :])
        except backend_errors() as exc:
            raise_for(exc, prefix)
        return iter(sorted(k for k in found if _is_key(k)))

    def check_bucket(self) -> None:
        """Fail early if the bucket is missing, the credentials cannot reach it, or the
        endpoint ignores the server-side encryption asked for. (An object lookup alone
        cannot tell a missing bucket from a missing object: HEAD has no body.) The SSE probe
        starts a multipart upload and aborts it, so it stores nothing."""
        probe = self.prefix + ".callvault-sse-probe"  # never a valid object key
        confirmed = True
        try:
            self._client.head_bucket(Bucket=self.bucket)
            if self._sse:
                response = self._client.create_multipart_upload(
                    Bucket=self.bucket, Key=probe, ServerSideEncryption=SSE
                )
                self._client.abort_multipart_upload(
                    Bucket=self.bucket, Key=probe, UploadId=response["UploadId"]
                )
                confirmed = response.get("ServerSideEncryption") == SSE
        except backend_errors() as exc:
            raise ObjectStoreError(
                f"S3 bucket {self.bucket!r} is not usable: {type(exc).__name__}: {exc}"
            ) from None
        if not confirmed:
            raise no_sse_error()

    def remove_stale_uploads(self, older_than_seconds: float = 86400.0) -> int:
        """Abort multipart uploads under the prefix started before the limit (left by a
        writer that was killed before it could abort); returns how many. A bucket
        lifecycle rule (AbortIncompleteMultipartUpload) does the same server-side."""
        cutoff = datetime.now(UTC).timestamp() - older_than_seconds
        removed = 0
        try:
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"].timestamp() < cutoff:
                        self._client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        removed += 1
        except backend_errors() as exc:
            raise_for(exc, self.prefix)
        return removed

    # -- internals --------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return self.prefix + key

    def _head(self, key: str) -> dict[str, Any]:
        try:
            head: dict[str, Any] = self._client.head_object(Bucket=self.bucket, Key=self._name(key))
        except backend_errors() as exc:
            raise_for(exc, key)
        return head

    def _get_range(self, key: str, offset: int, size: int, etag: str) -> bytes:
        try:
            response = self._client.get_object(
                Bucket=self.bucket,
                Key=self._name(key),
                Range=f"bytes={offset}-{offset + size - 1}",
                IfMatch=etag,
            )
            with response["Body"] as body:
                data: bytes = body.read()
        except backend_errors() as exc:
            raise_for(exc, key)
        return data


def _stream(body: Any, key: str) -> Iterator[bytes]:
    with body:
        try:
            yield from body.iter_chunks(STREAM_BLOCK)
        except backend_errors() as exc:
            raise_for(exc, key)


def _is_key(candidate: str) -> bool:
    try:
        check_key(candidate)
    except InvalidRequest:
        return False
    return True
