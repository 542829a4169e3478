"""S3 settings and the one place an S3 client is built: TLS verified, never plaintext.

Credentials are never settings: boto3's default chain supplies them (``AWS_ACCESS_KEY_ID``
and friends, a named ``profile``, an instance or task role). The endpoint must be
``https://`` and its certificate is always verified (against the system store, or against
``ca_bundle`` for a private CA); ``http://`` is refused unless the loudly named
``allow_plaintext_endpoint_for_tests`` is set, which exists for a local test server only.
TLS is 1.3 only unless ``allow_tls12`` (then 1.2 with ECDHE + AEAD suites only); the client
sends under callvault's TLS policy (``_s3_tls``), not botocore's default context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callvault.storage.objects._errors import ObjectStoreError
from callvault.storage.objects._s3 import (
    MIN_PART_SIZE,
    PREFIX_PATTERN,
    S3ObjectStore,
    check_endpoint,
)

__all__ = ["S3Settings", "checksum_options", "open_s3_store"]

_MIB = 1024 * 1024


class S3Settings(BaseModel):
    """Where and how sealed objects are kept in an S3-compatible bucket."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="bucket name")
    prefix: str = Field(
        "",
        pattern=PREFIX_PATTERN,
        description="key prefix inside the bucket, empty or ending in '/' (e.g. 'prod/')",
    )
    endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (https://…); None means AWS S3 itself"
    )
    region: str | None = Field(None, pattern=r"^[a-z0-9-]{1,32}$", description="region name")
    profile: str | None = Field(None, description="AWS credentials profile (default chain if None)")
    ca_bundle: Path | None = Field(
        None, description="CA certificates to verify the endpoint with (system store if None)"
    )
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    server_side_encryption: bool = Field(
        True,
        description="ask for SSE-S3 (AES256) as defense in depth; objects are sealed already. "
        "Turn off only for endpoints that reject it.",
    )
    part_size_mib: int = Field(
        MIN_PART_SIZE // _MIB, ge=MIN_PART_SIZE // _MIB, le=512, description="multipart size"
    )
    allow_tls12: bool = Field(
        False,
        description="accept TLS 1.2 (ECDHE + AEAD suites only) from an endpoint without "
        "TLS 1.3; TLS 1.3 only if False",
    )
    allow_plaintext_endpoint_for_tests: bool = Field(
        False, description="DANGER: accept an http:// endpoint (local test servers only)"
    )

    @model_validator(mode="after")
    def _check_endpoint(self) -> S3Settings:
        if self.endpoint_url is not None:
            check_endpoint(self.endpoint_url, self.allow_plaintext_endpoint_for_tests)
        return self


def checksum_options(config_class: Any) -> dict[str, str]:
    """Send and check body checksums only where an operation requires them.

    botocore 1.36 began adding CRC32 checksums to every upload by default, sent as an
    ``aws-chunked`` body with a trailing checksum that many S3-compatible endpoints do not
    accept (Ceph's RADOS Gateway before Reef answers ``MissingContentLength``). Integrity is
    not lost: TLS protects the transfer, and every object is sealed (AEAD), so a corrupted
    byte fails authentication when it is opened. Older botocore has no such option and
    already behaves this way."""
    if "request_checksum_calculation" not in getattr(config_class, "OPTION_DEFAULTS", {}):
        return {}
    return {
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
    }


def open_s3_store(settings: S3Settings, session: Any | None = None) -> S3ObjectStore:
    """An ``S3ObjectStore`` with a client built from ``settings`` (``session``: a
    ``boto3.session.Session`` to take credentials from; a new default one if None), after
    checking that the bucket is reachable with those credentials."""
    try:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - boto3 is a dependency of the S3 backend
        raise ObjectStoreError("the S3 object store needs boto3 (pip install boto3)") from None
    if session is None:
        session = boto3.session.Session(profile_name=settings.profile)
    config = Config(
        s3={"addressing_style": settings.addressing_style},
        retries={"mode": "standard", "max_attempts": 5},
        **checksum_options(Config),
    )
    client = session.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        # Always verify: True (system store) or the CA bundle path; never False.
        verify=str(settings.ca_bundle) if settings.ca_bundle is not None else True,
        config=config,
    )
    store = S3ObjectStore(
        settings.bucket,
        settings.prefix,
        client,
        server_side_encryption=settings.server_side_encryption,
        part_size=settings.part_size_mib * _MIB,
        allow_plaintext_endpoint_for_tests=settings.allow_plaintext_endpoint_for_tests,
        allow_tls12=settings.allow_tls12,
    )
    store.check_bucket()
    return store
