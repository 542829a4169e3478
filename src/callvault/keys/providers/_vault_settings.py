"""The ``vault+https://`` URI of the Vault Transit provider, parsed into frozen settings.

``vault+https://HOST:PORT/?mount=transit&meta=callvault-meta&ca=/etc/callvault/vault-ca.pem``

The URI says where the server is and which mounts to use, never who we are: a URI with a
user name, a password or a ``token`` parameter is refused (the token comes from the
environment, see ``_vault_token``). ``vault+http://`` is refused unless the loudly named
``allow_plaintext_endpoint_for_tests=true`` is present, as for the S3 settings: it exists
for a local test server only. ``allow_tls12=true`` accepts a server without TLS 1.3
(TLS 1.2 with ECDHE + AEAD suites only; the default is TLS 1.3 only). Unknown parameters
are refused too, so a typo such as ``mout=`` cannot silently fall back to a default mount.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callvault.errors import ConfigError

__all__ = ["VaultSettings", "parse_vault_uri"]

_MOUNT = r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$"
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


class VaultSettings(BaseModel):
    """Where the Transit provider connects; every field is validated at construction."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    address: str = Field(description="https://host:port of the Vault / OpenBao server")
    transit_mount: str = Field("transit", pattern=_MOUNT, description="Transit mount path")
    meta_mount: str = Field(
        "callvault-meta",
        pattern=_MOUNT,
        description="KV v2 mount that keeps labels and lifecycle state beside the keys",
    )
    ca: Path | None = Field(
        None, description="CA bundle to verify the server with (system store if None)"
    )
    namespace: str | None = Field(None, pattern=_MOUNT, description="Vault namespace")
    allow_tls12: bool = Field(
        False,
        description="accept TLS 1.2 (ECDHE + AEAD suites only) from a server without TLS 1.3; "
        "TLS 1.3 only if False",
    )
    allow_plaintext_endpoint_for_tests: bool = Field(
        False, description="DANGER: accept vault+http:// (local test servers only)"
    )


def parse_vault_uri(uri: str, home: Path) -> VaultSettings:
    """Settings from ``uri``; a relative ``ca`` path is relative to the home directory."""
    parts = urlsplit(uri)
    if parts.scheme not in ("vault+https", "vault+http"):
        raise ConfigError(f"not a Vault Transit URI: {parts.scheme}://")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "credentials never go in the KMS URI: set VAULT_TOKEN or CALLVAULT_VAULT_TOKEN_FILE"
        )
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError("a vault+https:// URI has no path or fragment: use ?mount=...")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError("the Vault URI has an invalid port") from None
    if not host:
        raise ConfigError("the Vault URI must name a host")
    query = _query(parts.query)
    plaintext = _flag(query.pop("allow_plaintext_endpoint_for_tests", "false"))
    allow_tls12 = _flag(query.pop("allow_tls12", "false"))
    if parts.scheme == "vault+http" and not plaintext:
        raise ConfigError(
            "vault+http:// refused: the token and every data key would cross the network in "
            "clear; use vault+https:// (vault+http only with allow_plaintext_endpoint_for_tests)"
        )
    netloc = f"[{host}]" if ":" in host else host
    address = f"{parts.scheme.removeprefix('vault+')}://{netloc}" + (f":{port}" if port else "")
    ca = query.pop("ca", None)
    try:
        return VaultSettings(
            address=address,
            transit_mount=query.pop("mount", "transit"),
            meta_mount=query.pop("meta", "callvault-meta"),
            ca=None if ca is None else _resolve(ca, home),
            namespace=query.pop("namespace", None),
            allow_tls12=allow_tls12,
            allow_plaintext_endpoint_for_tests=plaintext,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise ConfigError(f"invalid Vault URI: {problems}") from None


def _query(raw: str) -> dict[str, str]:
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True, strict_parsing=False):
        if name == "token" or "secret" in name or "password" in name:
            raise ConfigError(
                "credentials never go in the KMS URI: set VAULT_TOKEN or CALLVAULT_VAULT_TOKEN_FILE"
            )
        if name in query:
            raise ConfigError(f"Vault URI parameter {name!r} given more than once")
        query[name] = value
    unknown = set(query) - {
        "mount",
        "meta",
        "ca",
        "namespace",
        "allow_tls12",
        "allow_plaintext_endpoint_for_tests",
    }
    if unknown:
        raise ConfigError(
            f"unknown Vault URI parameter(s) {sorted(unknown)}; known: mount, meta, ca, "
            "namespace, allow_tls12, allow_plaintext_endpoint_for_tests"
        )
    return query


def _flag(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"expected true or false, got {value!r}")


def _resolve(ca: str, home: Path) -> Path:
    path = Path(ca)
    path = path if path.is_absolute() else home / path
    if not path.is_file():
        raise ConfigError(f"Vault CA bundle {path} does not exist")
    return path
