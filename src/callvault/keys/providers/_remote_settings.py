"""The ``keyd://`` URI of the remote provider, parsed into frozen settings.

``keyd://HOST:PORT/?identity=api&ca=/srv/callvault/ca&server=keyd&timeout=10``

* ``identity`` (default ``api``): the service name we present, ``spiffe://<td>/<identity>``.
  Its certificate is issued from the internal CA directory ``ca`` and renewed before it
  expires (``CertificateRenewer``), unless ``cert`` and ``key`` name files that something
  else keeps fresh (a sidecar); then ``identity`` is only what we expect to be.
* ``ca`` (default ``<home>/ca``): the internal CA directory. Its public files (``root.pem``,
  ``intermediate.pem``, ``ca.json``, ``revoked.json``) are always needed: the root is the
  trust anchor and the verifier checks keyd's SPIFFE ID and revocation after each handshake.
* ``server`` (default ``keyd``): the service keyd must prove it is (``spiffe://<td>/keyd``).

The transport is fixed: mTLS with the ``MODERN`` profile (TLS 1.3 only); there is no
parameter to weaken it. Unknown parameters are refused, so a typo cannot fall back to a
default silently. Relative paths are relative to the home directory.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callvault.errors import ConfigError

__all__ = ["RemoteSettings", "parse_keyd_uri"]

_SERVICE = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class RemoteSettings(BaseModel):
    """Where the remote provider connects and who it is; validated at construction."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = Field(min_length=1, description="keyd's host name or IP (in its cert SAN)")
    port: int = Field(ge=1, le=65535)
    identity: str = Field("api", pattern=_SERVICE, description="our service name")
    server: str = Field("keyd", pattern=_SERVICE, description="keyd's service name")
    ca: Path = Field(description="internal CA directory (public files at least)")
    cert: Path | None = Field(None, description="our certificate chain (else issued)")
    key: Path | None = Field(None, description="its private key (0600)")
    timeout: float = Field(10.0, gt=0, le=120, description="per request, seconds")
    pool_size: int = Field(8, ge=1, le=64, description="idle connections kept alive")

    @model_validator(mode="after")
    def _cert_and_key(self) -> RemoteSettings:
        if (self.cert is None) != (self.key is None):
            raise ValueError("cert and key go together")
        return self


def _path(value: str, home: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else home / path


def parse_keyd_uri(uri: str, home: Path) -> RemoteSettings:
    parts = urlsplit(uri)
    if parts.scheme != "keyd":
        raise ConfigError(f"not a keyd URI: {parts.scheme}://")
    if parts.username is not None or parts.password is not None:
        raise ConfigError("a keyd:// URI carries no credentials: identity is a certificate")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError("a keyd:// URI has no path or fragment: use ?identity=...")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"bad port in {uri!r}") from None
    if not parts.hostname or port is None:
        raise ConfigError(f"a keyd:// URI needs host and port: {uri!r}")
    params: dict[str, object] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if name in params:
            raise ConfigError(f"keyd:// parameter {name!r} given twice")
        params[name] = _path(value, home) if name in ("ca", "cert", "key") else value
    params.setdefault("ca", home / "ca")
    try:
        return RemoteSettings(host=parts.hostname, port=port, **params)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "uri"
        raise ConfigError(f"keyd:// URI: {where}: {first['msg']}") from None
