"""Settings of the AWS KMS provider, parsed from its URI, and the one place its client is built.

URI: ``aws://?region=eu-central-1&endpoint=https://kms.internal&profile=ops&ca_bundle=/ca.pem``
(every parameter optional; ``allow_tls12=true`` accepts a TLS 1.2-only endpoint, with
ECDHE + AEAD suites only). Credentials never appear here: boto3's default chain supplies
them (environment, shared credentials file or ``profile``, instance / task role), so a
configuration file or a log line holding the URI never holds a secret. A URI that tries to
carry one (``aws://key:secret@…``, ``?aws_secret_access_key=…``) is refused without being
echoed. The endpoint must be ``https://`` with a verified certificate; ``http://`` needs the
loudly named ``allow_plaintext_endpoint_for_tests`` (a local moto server only).

The client sets its timeouts and botocore's ``standard`` retry mode explicitly instead of
inheriting whatever the environment's AWS config says; retries beyond botocore's own are
the common provider wrapper's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callvault.errors import ConfigError
from callvault.transport import TlsProfile
from callvault.transport.clients import ClientTlsGuard, secure_botocore_client

__all__ = ["AwsKmsSettings", "build_client", "parse_aws_uri"]

_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}
_FLAGS = {"allow_tls12", "allow_plaintext_endpoint_for_tests"}
_SECRET_HINTS = ("secret", "access_key", "token", "password", "credential")


class AwsKmsSettings(BaseModel):
    """Where the KMS is and how patiently to talk to it; never who we are."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    region: str | None = Field(
        None, pattern=r"^[a-z0-9-]{1,32}$", description="AWS region (default chain if None)"
    )
    endpoint: str | None = Field(
        None, description="KMS endpoint (https://…, e.g. a VPC endpoint); None: AWS's own"
    )
    profile: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.+=@-]{1,64}$", description="AWS credentials profile name"
    )
    ca_bundle: Path | None = Field(
        None, description="CA certificates to verify the endpoint (system store if None)"
    )
    connect_timeout: float = Field(3.0, gt=0, le=60, description="seconds to connect")
    read_timeout: float = Field(10.0, gt=0, le=120, description="seconds to wait for a reply")
    max_attempts: int = Field(
        3, ge=1, le=10, description="botocore standard-mode attempts, first one included"
    )
    allow_tls12: bool = Field(
        False,
        description="accept TLS 1.2 (ECDHE + AEAD suites only) from an endpoint without "
        "TLS 1.3; TLS 1.3 only if False",
    )
    allow_plaintext_endpoint_for_tests: bool = Field(
        False, description="DANGER: accept an http:// endpoint (a local test server only)"
    )

    @model_validator(mode="after")
    def _check_endpoint(self) -> AwsKmsSettings:
        if self.endpoint is None:
            return self
        parts = urlsplit(self.endpoint)
        if parts.username or parts.password:
            raise ValueError("endpoint must not carry credentials")
        if not parts.hostname or parts.query or parts.fragment:
            raise ValueError("endpoint must be scheme://host[:port][/path]")
        if parts.scheme == "http" and not self.allow_plaintext_endpoint_for_tests:
            raise ValueError(
                "endpoint http:// refused: KMS traffic carries data keys; use https:// "
                "(http:// only with allow_plaintext_endpoint_for_tests)"
            )
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"endpoint scheme {parts.scheme!r} refused: use https://")
        return self


def parse_aws_uri(uri: str) -> AwsKmsSettings:
    """``aws://?name=value&…`` → settings; ``ConfigError`` naming the problem, never the
    values (a mistaken URI may hold a secret)."""
    parts = urlsplit(uri)
    if parts.scheme != "aws":
        raise ConfigError("an AWS KMS URI starts with aws://")
    if parts.netloc or parts.path.strip("/") or parts.fragment:
        raise ConfigError(
            "an AWS KMS URI has no host or path: aws://?region=…&endpoint=… "
            "(credentials come from boto3's default chain, never from the URI)"
        )
    values: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if any(hint in name.lower() for hint in _SECRET_HINTS):
            raise ConfigError(
                f"AWS KMS URI parameter {name!r} refused: credentials come from boto3's "
                "default chain (environment, profile, instance role), never from the URI"
            )
        if name in values:
            raise ConfigError(f"AWS KMS URI parameter {name!r} given twice")
        values[name] = _flag(name, value) if name in _FLAGS else value
    if parts.query and not values:
        raise ConfigError("AWS KMS URI query is not name=value pairs")
    try:
        return AwsKmsSettings.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'uri'}: {error['msg']}"
            for error in exc.errors(include_input=False)
        )
        raise ConfigError(f"invalid AWS KMS URI: {problems}") from None


def _flag(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"AWS KMS URI parameter {name!r} must be true or false")


def build_client(settings: AwsKmsSettings, session: Any | None = None) -> Any:
    """A KMS client: verified TLS, explicit timeouts, standard retries. ``session``: a
    ``boto3.session.Session`` to take credentials from (a new default-chain one if None).
    An ``https://`` client sends under the ``aws-kms`` :class:`ClientTlsGuard` (TLS 1.3, or
    1.2 with ECDHE + AEAD under ``allow_tls12``; chain and host name verified against
    ``ca_bundle`` or the system store; every new connection read back as evidence)."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]
    from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]

    from callvault.keys.providers._aws_redact import install_redaction

    install_redaction()
    config = Config(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"mode": "standard", "max_attempts": settings.max_attempts},
        user_agent_extra="callvault",
    )
    try:
        if session is None:
            session = boto3.session.Session(profile_name=settings.profile)
        client = session.client(
            "kms",
            region_name=settings.region,
            endpoint_url=settings.endpoint,
            # Always verify: True (system store) or the CA bundle path; never False.
            verify=str(settings.ca_bundle) if settings.ca_bundle is not None else True,
            config=config,
        )
    except BotoCoreError as exc:  # NoRegionError, ProfileNotFound, …: name the kind only
        raise ConfigError(f"cannot build the AWS KMS client: {type(exc).__name__}: {exc}") from None
    if urlsplit(client.meta.endpoint_url).scheme == "https":
        profile = TlsProfile.LEGACY_INTEROP if settings.allow_tls12 else TlsProfile.MODERN
        secure_botocore_client(client, ClientTlsGuard("aws-kms", profile, ca=settings.ca_bundle))
    return client
